##
## The FM netmod of MPICH's CH4 device (MPI-FM).  See mpi-fm/README.md.
##

if BUILD_CH4_NETMOD_FM

mpi_core_sources   += src/mpid/ch4/netmod/fm/func_table.c \
                      src/mpid/ch4/netmod/fm/fm_init.c \
                      src/mpid/ch4/netmod/fm/fm_am.c \
                      src/mpid/ch4/netmod/fm/fm_noinline.c

errnames_txt_files += src/mpid/ch4/netmod/fm/errnames.txt

endif
