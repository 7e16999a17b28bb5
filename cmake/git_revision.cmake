# Writes OUT (melodist_build_info.h) with the source tree's git revision: run at every build by the
# melodist_git_revision target, so `melodist --version` names the commit the binary was built from. The
# file is rewritten only when the revision changes (file(CONFIGURE) leaves an unchanged file untouched),
# so an unchanged tree recompiles nothing.
execute_process(COMMAND git -C ${SOURCE_DIR} describe --always --dirty --abbrev=12
                OUTPUT_VARIABLE MELODIST_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT MELODIST_GIT_REVISION)
  set(MELODIST_GIT_REVISION unknown)
endif()
file(CONFIGURE OUTPUT ${OUT} CONTENT "#pragma once\n#define MELODIST_GIT_REVISION \"@MELODIST_GIT_REVISION@\"\n" @ONLY)
