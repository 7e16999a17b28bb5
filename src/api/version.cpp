// Version, revision and BLAS of the library actually loaded (include/melodist/melodist.h).
#include <cblas.h>

#include "melodist/melodist.h"
#include "melodist_build_info.h"  // generated at every build (cmake/git_revision.cmake): MELODIST_GIT_REVISION

namespace melodist::api {

std::string version() { return MELODIST_VERSION; }
int api_version() { return MELODIST_API_VERSION; }
std::string git_revision() { return MELODIST_GIT_REVISION; }
std::string blas_info() {
  const char* config = openblas_get_config();  // OpenBLAS: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..."
  return config ? config : "OpenBLAS (no configuration string)";
}

}  // namespace melodist::api
