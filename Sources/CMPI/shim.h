/* Open MPI's C API, for CDnicMPI (include paths from pkg-config ompi-c). */
#include <mpi.h>
