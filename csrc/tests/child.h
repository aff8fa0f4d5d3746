/* child.h — for tests of what a process reads once from its environment
 * ($DNIC_ISA, $OPENBLAS_CORETYPE): runs this test program again as
 * `self --child VALUE` and collects what it prints. Needs _POSIX_C_SOURCE
 * defined before the first include. */
#ifndef DNIC_TEST_CHILD_H
#define DNIC_TEST_CHILD_H

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Up to cap - 1 bytes of the child's stdout into out; its exit status, or
 * -1 when it did not exit normally. */
static int run_child(const char *self, const char *value, char *out, size_t cap) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(stdout); /* or the child would print our buffered lines again */
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        execl(self, self, "--child", value, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    ssize_t n = read(fd[0], out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
