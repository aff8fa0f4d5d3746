/* lapacke_ref.h — LAPACKE_dgels as an independent reference for the tests
 * (test_rules, test_ridge): the Makefile links tests that include
 * <lapacke.h> with -llapacke; when it does not, the weak symbol is NULL
 * and liblapacke is opened at run time instead. */
#ifndef DNIC_TESTS_LAPACKE_REF_H
#define DNIC_TESTS_LAPACKE_REF_H

#include <dlfcn.h>
#include <lapacke.h>

#pragma weak LAPACKE_dgels
typedef lapack_int (*dgels_fn)(int, char, lapack_int, lapack_int, lapack_int, double *, lapack_int, double *,
                               lapack_int);
static dgels_fn find_dgels(void) {
    static dgels_fn f;
    if (f) return f;
    f = LAPACKE_dgels;
    if (f) return f;
    void *lib = dlopen("liblapacke.so.3", RTLD_NOW);
    if (!lib) lib = dlopen("liblapacke.so", RTLD_NOW);
    if (lib) *(void **)(&f) = dlsym(lib, "LAPACKE_dgels");
    return f;
}

#endif
