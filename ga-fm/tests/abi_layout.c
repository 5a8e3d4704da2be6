/* abi_layout.c - the sizes, member offsets and constants of armci.h and message.h, printed; built
 * once against GA-FM's headers and once against Debian's (ARMCI-MPI's, which Debian's GA was
 * compiled with), and the two outputs compared by check_abi.py. */
#include <armci.h>
#include <message.h>
#include <stddef.h>
#include <stdio.h>

#define SZ(t) printf("sizeof(%s) = %zu, align %zu\n", #t, sizeof(t), _Alignof(t))
#define OFF(t, m) printf("  %s.%s at %zu, %zu bytes\n", #t, #m, offsetof(t, m), sizeof(((t*)0)->m))
#define VAL(c) printf("%s = %ld\n", #c, (long)(c))

int main(void) {
  SZ(armci_size_t);
  SZ(armci_domain_t);
  SZ(armci_hdl_t);
  OFF(armci_hdl_t, target);
  OFF(armci_hdl_t, aggregate);
  SZ(armci_giov_t);
  OFF(armci_giov_t, src_ptr_array);
  OFF(armci_giov_t, dst_ptr_array);
  OFF(armci_giov_t, bytes);
  OFF(armci_giov_t, ptr_array_len);
  SZ(ARMCI_Group);
  OFF(ARMCI_Group, comm);
  OFF(ARMCI_Group, noncoll_pgroup_comm);
  OFF(ARMCI_Group, grp_to_abs);
  OFF(ARMCI_Group, abs_to_grp);
  OFF(ARMCI_Group, rank);
  OFF(ARMCI_Group, size);
  SZ(enum ARMCI_Acc_e);
  SZ(enum ARMCI_Rmw_e);
  SZ(enum armci_scope_e);
  SZ(enum armci_type_e);
  SZ(enum armci_domain_e);
  VAL(ARMCI_MPI);
  VAL(ARMCI_ACC_INT);
  VAL(ARMCI_ACC_LNG);
  VAL(ARMCI_ACC_FLT);
  VAL(ARMCI_ACC_DBL);
  VAL(ARMCI_ACC_CPL);
  VAL(ARMCI_ACC_DCP);
  VAL(ARMCI_FETCH_AND_ADD);
  VAL(ARMCI_FETCH_AND_ADD_LONG);
  VAL(ARMCI_SWAP);
  VAL(ARMCI_SWAP_LONG);
  VAL(ARMCI_DOMAIN_SMP);
  VAL(SCOPE_ALL);
  VAL(SCOPE_NODE);
  VAL(SCOPE_MASTERS);
  VAL(ARMCI_INT);
  VAL(ARMCI_LONG);
  VAL(ARMCI_LONG_LONG);
  VAL(ARMCI_FLOAT);
  VAL(ARMCI_DOUBLE);
  printf("ARMCII_MPI_SIZE_T is MPI_LONG: %d\n", ARMCII_MPI_SIZE_T == MPI_LONG);
  return 0;
}
