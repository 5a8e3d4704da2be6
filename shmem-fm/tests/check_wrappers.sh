#!/bin/sh
# check_wrappers.sh BINDIR - oshcc and oshc++ compile and link a C and a C++ OpenSHMEM program
# (run as singletons: shmem_my_pe() before shmem_init returns -1), and -show prints the command.
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$bin/oshcc" -show -c x.c | grep -q -- "-I"
"$bin/oshcc" -show x.c | grep -q -- "-lshmem-fm"
printf '#include <shmem.h>\nint main(void) { return shmem_my_pe() == -1 ? 0 : 1; }\n' >w.c
"$bin/oshcc" -std=c11 -Wall -Werror -o w_c w.c
./w_c
cp w.c w.cpp
"$bin/oshc++" -Wall -Werror -o w_cxx w.cpp
./w_cxx
echo "oshcc and oshc++ work"
