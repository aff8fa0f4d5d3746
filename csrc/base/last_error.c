/* last_error.c — the per-thread detail of the last failing call
 * (dnic_last_error) and the helper every failure site sets it with.
 *
 * One fixed buffer per thread: setting it allocates nothing and never
 * prints, so it is safe on any path, hot or not. errno-style: a failing
 * call writes it, a successful call leaves it alone. */
#include "base/internal.h"

#include <stdarg.h>
#include <stdio.h>

/* Thread-local storage: C11's keyword where the compiler is in C11 mode,
 * the GNU / MSVC spelling otherwise (gcc and clang accept __thread under
 * -std=c99). A compiler with none of them keeps one buffer for the whole
 * process. */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#  define DNIC_TLS _Thread_local
#elif defined(__GNUC__) || defined(__clang__)
#  define DNIC_TLS __thread
#elif defined(_MSC_VER)
#  define DNIC_TLS __declspec(thread)
#else
#  define DNIC_TLS
#endif

static DNIC_TLS char last_error[DNIC_LAST_ERROR_MAX];
static DNIC_TLS unsigned long failures; /* dnic__fail calls on this thread */

const char *dnic_last_error(void) { return last_error; }


dnic_status dnic__fail(dnic_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n < 0) last_error[0] = '\0';
    failures++;
    return status;
}

unsigned long dnic__failures(void) { return failures; }

void dnic__clear_error(void) { last_error[0] = '\0'; }
