# `cmake --install`: libmelodist (shared and static), include/melodist/, melodistConfig.cmake (+ version)
# exporting melodist::melodist and melodist::melodist_static, melodist.pc, the `melodist` binary, its
# man page (generated from its --help texts) and the bundled models into share/melodist/models.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(MELODIST_MODELS_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/melodist/models)
set(MELODIST_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/melodist)
# The installed binary and library find each other and the models by relative paths.
file(RELATIVE_PATH rel_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
set_target_properties(melodist_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${rel_lib}")

install(TARGETS melodist melodist_shared EXPORT melodistTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS melodist_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB MELODIST_PUBLIC_HEADERS ${PROJECT_SOURCE_DIR}/include/melodist/*.h)
install(FILES ${MELODIST_PUBLIC_HEADERS} ${CMAKE_BINARY_DIR}/generated/melodist/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/melodist)
install(EXPORT melodistTargets NAMESPACE melodist:: DESTINATION ${MELODIST_CMAKE_INSTALL_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/melodistConfig.cmake.in ${CMAKE_BINARY_DIR}/melodistConfig.cmake
                              INSTALL_DESTINATION ${MELODIST_CMAKE_INSTALL_DIR}
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR MELODIST_MODELS_INSTALL_DIR)
# Same major version = compatible (the API version is the shared library's SONAME).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/melodistConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/melodistConfig.cmake ${CMAKE_BINARY_DIR}/melodistConfigVersion.cmake
        DESTINATION ${MELODIST_CMAKE_INSTALL_DIR})
# melodist.pc: prefix filled in at install time (cmake --install --prefix P works).
install(CODE "
  set(CMAKE_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(CMAKE_INSTALL_DATADIR \"${CMAKE_INSTALL_DATADIR}\")
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  set(MELODIST_PC_LIBS_PRIVATE \"${MELODIST_PC_LIBS_PRIVATE}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/cmake/melodist.pc.in\" \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/melodist.pc\" @ONLY)
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/melodist.pc\")")
# Every model folder under models/ (model.safetensors, mapping.json, metrics.csv).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION ${MELODIST_MODELS_INSTALL_DIR})

# The man page, from the built binary's help (cmake/make_manpage.cmake).
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/melodist.1
                   COMMAND ${CMAKE_COMMAND} -DMELODIST=$<TARGET_FILE:melodist_cli> -DVERSION=${PROJECT_VERSION}
                           -DOUT=${CMAKE_BINARY_DIR}/melodist.1 -P ${PROJECT_SOURCE_DIR}/cmake/make_manpage.cmake
                   DEPENDS melodist_cli ${PROJECT_SOURCE_DIR}/cmake/make_manpage.cmake
                   COMMENT "Generating the man page melodist.1 from melodist --help")
add_custom_target(melodist_manpage ALL DEPENDS ${CMAKE_BINARY_DIR}/melodist.1)
install(FILES ${CMAKE_BINARY_DIR}/melodist.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
