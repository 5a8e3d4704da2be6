[#] start of __file__
dnl MPICH_SUBCFG_AFTER=src/mpid/ch4
dnl The FM netmod (MPI-FM): active messages only, over libfm.  libfm's headers and library are
dnl found through CPPFLAGS/LDFLAGS (or --with-fm=PREFIX).

AC_DEFUN([PAC_SUBCFG_PREREQ_]PAC_SUBCFG_AUTO_SUFFIX,[
    AM_COND_IF([BUILD_CH4],[
        for net in $ch4_netmods ; do
            AS_CASE([$net],[fm],[build_ch4_netmod_fm=yes])
            if test $net = "fm" ; then
               AC_DEFINE(HAVE_CH4_NETMOD_FM,1,[FM netmod is built])
               if test "$build_ch4_locality_info" != "yes" ; then
                  AC_DEFINE(MPIDI_BUILD_CH4_LOCALITY_INFO, 1, [CH4 should build locality info])
                  build_ch4_locality_info="yes"
               fi
            fi
        done
    ])
    AM_CONDITIONAL([BUILD_CH4_NETMOD_FM],[test "X$build_ch4_netmod_fm" = "Xyes"])
])dnl

AC_DEFUN([PAC_SUBCFG_BODY_]PAC_SUBCFG_AUTO_SUFFIX,[
AM_COND_IF([BUILD_CH4_NETMOD_FM],[
    AC_MSG_NOTICE([RUNNING CONFIGURE FOR ch4:fm])
    AC_ARG_WITH([fm],
                AS_HELP_STRING([--with-fm=PREFIX],[where libfm (include/fm/fm.h, lib/libfm.so) is]),
                [], [with_fm=])
    if test -n "$with_fm" ; then
        PAC_APPEND_FLAG([-I${with_fm}/include], [CPPFLAGS])
        PAC_APPEND_FLAG([-L${with_fm}/lib], [LDFLAGS])
    fi
    AC_CHECK_HEADER([fm/fm.h], [], [AC_MSG_ERROR([fm/fm.h not found: build libfm first and pass --with-fm or CPPFLAGS])])
    PAC_LIBS_ADD([-lfm])
])dnl end AM_COND_IF(BUILD_CH4_NETMOD_FM,...)
])dnl end _BODY

[#] end of __file__
