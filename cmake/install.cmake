# install.cmake - the installed tree (cmake --install build --prefix DIR) and its Debian package
# (cpack -G DEB in the build tree).  The tree is relocatable: libraries find each other through
# $ORIGIN, programs through $ORIGIN/../lib, the pkg-config files through ${pcfiledir}, the CMake
# package through paths relative to itself, and the wrappers (oshcc, oshrun, mpicc) from where
# they are run.
#
#   bin/      fm_info, fm-dcsd (the coscheduling daemon), oshcc, oshc++, oshrun, MPI-FM's mpicc, mpicxx, mpiexec (Hydra), GA-FM's
#             ga-config
#   include/  fm/fm.h, fm/fm.hpp, shmem.h, pshmem.h, shmem-generic.h, mpi.h, ga-fm/armci.h
#   lib/      libfm.so, libfm.a, libshmem-fm.so, libmpi.so (MPICH with the FM netmod; SONAME
#             libmpich.so.12), libarmci-fm.so, pkgconfig/{fm,shmem-fm}.pc, cmake/FM/
#   share/man FM(3), fm_info(1), oshcc(1), oshrun(1), fm-dcsd(8), MPICH's own pages
#   lib/systemd/system  fm-dcsd.service
include(CMakePackageConfigHelpers)

# "../.." from lib/pkgconfig (more for a multiarch libdir)
file(RELATIVE_PATH PC_UP "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" PC_UP "${PC_UP}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/fm.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/fm.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/cmake/shmem-fm.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/shmem-fm.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/fm.pc ${PROJECT_BINARY_DIR}/pkgconfig/shmem-fm.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(FM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/FM)
install(EXPORT FMTargets NAMESPACE FM:: DESTINATION ${FM_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/FMConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cmake/FMConfig.cmake
                              INSTALL_DESTINATION ${FM_CMAKE_DIR} PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/FMConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/FMConfig.cmake ${PROJECT_BINARY_DIR}/cmake/FMConfigVersion.cmake
        DESTINATION ${FM_CMAKE_DIR})

# Manual pages, written in Markdown (docs/fm.md, docs/man/*.md) and turned into roff at build time.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
string(TIMESTAMP FM_MAN_DATE "%Y-%m-%d" UTC)
set(man_pages "${PROJECT_SOURCE_DIR}/docs/fm.md|3|FM.3")
foreach(page fm_info.1 oshcc.1 oshrun.1 fm-dcsd.8)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" sect ${page})
  list(APPEND man_pages "${PROJECT_SOURCE_DIR}/docs/man/${page}.md|${sect}|${page}")
endforeach()
foreach(entry ${man_pages})
  string(REPLACE "|" ";" entry ${entry})
  list(GET entry 0 src)
  list(GET entry 1 sect)
  list(GET entry 2 name)
  set(out ${PROJECT_BINARY_DIR}/man/man${sect}/${name})
  add_custom_command(OUTPUT ${out}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man/man${sect}
                     COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/docs/md2man.py ${src} ${out} ${sect} ${FM_MAN_DATE}
                     DEPENDS ${src} ${PROJECT_SOURCE_DIR}/docs/md2man.py COMMENT "man page ${name}" VERBATIM)
  list(APPEND man_outputs ${out})
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/man/man1/oshc++.1 ".so man1/oshcc.1\n")
add_custom_target(man ALL DEPENDS ${man_outputs})
install(DIRECTORY ${PROJECT_BINARY_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR})

# The Debian package: the same tree under /opt/fm-stack (beside Debian's MPICH and Open MPI, whose
# mpicc, mpiexec, oshcc and oshrun it would otherwise collide with).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fm-stack)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "FM stack developers <fm-stack@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Fast Messages (FM) with MPI (MPICH 4.0.2 netmod), OpenSHMEM 1.5 and Global Arrays on top")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "FM is an active-messages library with reliable, ordered delivery over libfabric (shm, tcp,\n udp, verbs).  This package holds libfm (shared and static), SHMEM-FM (OpenSHMEM 1.5: oshcc,\n oshc++, oshrun), MPI-FM (MPICH 4.0.2 with a CH4 netmod on FM: mpicc, mpiexec) and GA-FM\n (ARMCI over FM for Debian's Global Arrays: libarmci-fm, ga-config), under /opt/fm-stack.")
set(CPACK_PACKAGING_INSTALL_PREFIX /opt/fm-stack)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# the shared-library dependencies come from dpkg-shlibdeps; the wrappers need a compiler
set(CPACK_DEBIAN_PACKAGE_DEPENDS "gcc | c-compiler, libc6-dev, pkg-config")
# g++ for oshc++ and mpicxx, gfortran for MPI-FM's mpifort
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "g++, gfortran")
# ga-config links Debian's Global Arrays and what its programs need
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
    "libfabric-bin, cmake, libglobalarrays-dev, libscalapack-mpich-dev, liblapack-dev, libblas-dev")
include(CPack)
