#!/bin/sh
# spec-names.sh - prints every C entry point of OpenSHMEM 1.5 (with the deprecated calls
# SHMEM-FM keeps), one per line, from the specification's type tables typed out here
# independently of shmem.h.  The test shmem.api_names checks libshmem-fm exports each of them.
set -eu
RMA="float double longdouble char schar short int long longlong uchar ushort uint ulong ulonglong
int8 int16 int32 int64 uint8 uint16 uint32 uint64 size ptrdiff"
AMO="int long longlong uint ulong ulonglong int32 int64 uint32 uint64 size ptrdiff"
EXTAMO="float double $AMO"
BITAMO="uint ulong ulonglong int32 int64 uint32 uint64"
P2P="short int long longlong ushort uint ulong ulonglong int32 int64 uint32 uint64 size ptrdiff"
BITRED="uchar ushort uint ulong ulonglong int8 int16 int32 int64 uint8 uint16 uint32 uint64 size"
ORDRED="char schar short int long longlong ptrdiff uchar ushort uint ulong ulonglong int8 int16
int32 int64 uint8 uint16 uint32 uint64 size float double longdouble"
ARITHRED="$ORDRED complexd complexf"
SIZES="8 16 32 64 128"

for f in init init_thread query_thread finalize global_exit my_pe n_pes pe_accessible \
  addr_accessible ptr info_get_version info_get_name pcontrol malloc malloc_with_hints calloc align \
  realloc free team_my_pe team_n_pes team_get_config team_translate_pe team_split_strided \
  team_split_2d team_destroy ctx_create team_create_ctx ctx_destroy ctx_get_team fence ctx_fence \
  quiet ctx_quiet set_lock clear_lock test_lock signal_fetch signal_wait_until barrier_all \
  sync_all team_sync broadcastmem collectmem fcollectmem alltoallmem alltoallsmem barrier sync \
  wait wait_until swap clear_cache_inv set_cache_inv clear_cache_line_inv set_cache_line_inv \
  udcflush udcflush_line; do
  echo "shmem_$f"
done
for f in start_pes _my_pe _num_pes shmalloc shfree shrealloc shmemalign; do echo "$f"; done
for t in $RMA; do
  for op in put get p g iput iget put_nbi get_nbi put_signal put_signal_nbi; do
    echo "shmem_${t}_$op"
    echo "shmem_ctx_${t}_$op"
  done
  for op in broadcast collect fcollect alltoall alltoalls; do echo "shmem_${t}_$op"; done
done
for s in $SIZES mem; do
  for op in put$s get$s put${s}_nbi get${s}_nbi put${s}_signal put${s}_signal_nbi; do
    echo "shmem_$op"
    echo "shmem_ctx_$op"
  done
  if [ $s != mem ]; then
    for op in iput$s iget$s; do echo "shmem_$op"; echo "shmem_ctx_$op"; done
  fi
done
for t in $EXTAMO; do
  for op in fetch set swap fetch_nbi swap_nbi; do
    echo "shmem_${t}_atomic_$op"
    echo "shmem_ctx_${t}_atomic_$op"
  done
done
for t in $AMO; do
  for op in compare_swap fetch_inc inc fetch_add add compare_swap_nbi fetch_inc_nbi fetch_add_nbi; do
    echo "shmem_${t}_atomic_$op"
    echo "shmem_ctx_${t}_atomic_$op"
  done
done
for t in $BITAMO; do
  for o in and or xor; do
    for op in fetch_$o $o fetch_${o}_nbi; do
      echo "shmem_${t}_atomic_$op"
      echo "shmem_ctx_${t}_atomic_$op"
    done
  done
done
for t in $P2P; do
  for op in wait_until wait_until_all wait_until_any wait_until_some wait_until_all_vector \
    wait_until_any_vector wait_until_some_vector test test_all test_any test_some test_all_vector \
    test_any_vector test_some_vector; do
    echo "shmem_${t}_$op"
  done
done
for t in $BITRED; do for o in and or xor; do echo "shmem_${t}_${o}_reduce"; done; done
for t in $ORDRED; do for o in max min; do echo "shmem_${t}_${o}_reduce"; done; done
for t in $ARITHRED; do for o in sum prod; do echo "shmem_${t}_${o}_reduce"; done; done
# Deprecated typed calls.
for t in int long longlong; do
  for op in cswap finc inc fadd add fetch set swap; do echo "shmem_${t}_$op"; done
done
for t in float double; do for op in fetch set swap; do echo "shmem_${t}_$op"; done; done
for t in short int long longlong; do echo "shmem_${t}_wait"; done
for s in 32 64; do
  for op in broadcast collect fcollect alltoall alltoalls; do echo "shmem_$op$s"; done
done
for t in short int long longlong; do
  for o in and or xor max min sum prod; do echo "shmem_${t}_${o}_to_all"; done
done
for t in float double longdouble; do
  for o in max min sum prod; do echo "shmem_${t}_${o}_to_all"; done
done
for t in complexd complexf; do for o in sum prod; do echo "shmem_${t}_${o}_to_all"; done; done
