/* mpi_launcher.c — a rank never outlives the process that started it
 * (dnic_mpi.h: dnic_mpi_end_with_launcher).
 *
 * Open MPI's mpirun (on another host, its daemon) forks the ranks. When
 * it ends without ending them (a second ^C makes it exit at once; SIGKILL
 * gives it no choice), the ranks would run on as orphans and write files
 * after the user's prompt is back. Linux's parent-death signal ends them
 * in the same instant: the kernel sends it while the parent exits, before
 * the parent's own parent can see it gone. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200112L
#  undef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200112L
#endif
#include "dnic_mpi.h"

#include <signal.h>
#include <unistd.h>
#ifdef __linux__
#  include <sys/prctl.h>
#endif

dnic_status dnic_mpi_end_with_launcher(int sig) {
#ifdef __linux__
    pid_t launcher = getppid();
    if (sig <= 0 || prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL) != 0) return DNIC_ERR_ARG;
    /* a launcher that ended before the request was made never sends it */
    return getppid() == launcher ? DNIC_OK : DNIC_ERR_STATE;
#else
    (void)sig;
    return DNIC_ERR_UNAVAILABLE;
#endif
}
