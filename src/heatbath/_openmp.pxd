# The one OpenMP shim. Kernels cimport from here, never from omp.h directly, so
# that a build without OpenMP compiles the same code as serial loops.

cdef extern from *:
    """
    #ifdef _OPENMP
        #include <omp.h>
        #define HEATBATH_OPENMP_ENABLED 1
    #else
        #define HEATBATH_OPENMP_ENABLED 0
        #define omp_get_max_threads() 1
        #define omp_get_thread_num() 0
    #endif
    """
    bint HEATBATH_OPENMP_ENABLED
    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
