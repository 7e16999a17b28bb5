// The BLAS thread count (see nn/blas.h).
#include "nn/blas.h"

namespace melodist {
void set_blas_threads(int n) { openblas_set_num_threads(n); }
}  // namespace melodist
