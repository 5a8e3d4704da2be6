/* fm_topology.h - the host topology FM sees (hwloc): processing units, cores, packages and NUMA
 * nodes of the CPUs this process may run on.  FM places each shared-memory ring's pages on its
 * receiver's NUMA node from it; fm_info -t prints it; fm-dcsd places ranks by cores with it.
 * Callable before FM_initialize and without it; thread-safe; set-up cost (hwloc reads /sys: a
 * few milliseconds), not for a hot path. */
#ifndef FM_TOPOLOGY_H
#define FM_TOPOLOGY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct FM_topology {
  unsigned pus;        /* processing units (hardware threads) this process may run on */
  unsigned cores;      /* cores holding at least one of them (= pus when hwloc sees no cores) */
  unsigned packages;   /* sockets */
  unsigned numa_nodes; /* NUMA nodes with at least one of them (1 on a UMA machine) */
  int cpu;             /* the PU this thread runs on now (sched_getcpu), or -1 */
  int numa_node;       /* its NUMA node's OS index, or -1 */
} FM_topology;

/* Fills *t.  FM_SUCCESS, or FM_EINVAL (t NULL) or FM_EUNSUPPORTED (hwloc could not read the
 * host: *t then says one PU, one core, one package, one node). */
int FM_topology_get(FM_topology* t);

/* For each core (in hwloc's logical order), the OS index of its first PU, into cpus[0..max):
 * returns how many cores there are (may exceed max: only max are written; cpus may be NULL when
 * max is 0), or -1 when cpus is NULL and max is not 0. */
int FM_topology_core_cpus(int* cpus, unsigned max);

/* The NUMA node (OS index) holding PU `cpu`, or -1 when unknown. */
int FM_topology_node_of_cpu(int cpu);

/* A human-readable description (what fm_info -t prints): one line for the totals, one per NUMA
 * node with its PUs' OS indexes.  Writes at most len bytes, NUL-terminated; returns the length
 * the whole text needs (as snprintf), or -1 when hwloc could not read the host. */
int FM_topology_describe(char* buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* FM_TOPOLOGY_H */
