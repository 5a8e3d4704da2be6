/* fm_topology.h - the host topology FM sees (hwloc): processing units, cores, packages and NUMA
 * nodes of the CPUs this process may run on; also the host's CPU contention and a thread's
 * scheduling attributes.  FM places each shared-memory ring's pages on its receiver's NUMA node
 * from it; fm_info -t prints it; fm-dcsd places ranks by cores with it.
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

/* CPU contention of the host, for waits that choose between spinning and sleeping (FM's idle
 * phase, fm-dcsd's dcs policy).  A probe remembers its previous sample; zero-initialize it. */
typedef struct FM_load_probe {
  unsigned long long stall_us; /* /proc/pressure/cpu "some" total at the previous sample */
  unsigned long long at_ns;    /* CLOCK_MONOTONIC time of the previous sample; 0: none yet */
  unsigned over;               /* without PSI: consecutive samples above the CPUs */
  int source;                  /* 0: not known yet; 1: pressure stall information; 2: loadavg */
} FM_load_probe;

/* How contended the host's CPUs were since the probe's previous sample, in thousandths of that
 * time during which some runnable task waited for a CPU (Linux's pressure stall information,
 * "some", system-wide: 3 busy tasks on 2 CPUs read about 500, a transient kernel thread beside 2
 * busy tasks a few).  Where the kernel has no PSI, /proc/loadavg's runnable count against `cpus`
 * instead: 1000 once it exceeded them in two samples in a row (one such sample is often a
 * transient task), else 0.  The first sample of a probe returns 0.  No allocation; two system
 * calls (open, read, close of one /proc file); not for a hot path. */
int FM_load_sample(FM_load_probe* p, unsigned cpus);

/* The FM_load_sample value from which FM's waits (FM_IDLE=auto) and fm-dcsd count the host as
 * contended: a quarter of the time.  Two jobs of 2 busy ranks on 2 CPUs read 850-1000, and 3 busy
 * tasks read about 500.  Two ranks whose waits sleep, with their wake-ups (and a progress
 * thread's naps), read up to about 150 by themselves.  A lower bound would keep them sleeping for
 * that reason alone. */
#define FM_LOAD_CONTENDED 250

/* A thread's scheduling attributes, through sched_getattr/sched_setattr (which glibc 2.36 does
 * not wrap): what FM_initialize changes (FM_SLICE_US) and FM_finalize gives back, and what
 * fm-dcsd saves before a boost and gives back after it.  runtime_ns is the slice a thread of a
 * fair policy (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE) asks for: Linux 6.12 and later (EEVDF's
 * custom slice, 100 us..100 ms; a woken thread whose slice is shorter than the running one's
 * preempts it at once); earlier kernels read 0 and ignore it; 0 when set: the default slice. */
typedef struct FM_sched_attr {
  unsigned policy;               /* SCHED_* */
  int nice;                      /* fair policies */
  unsigned prio;                 /* real-time policies */
  unsigned long long flags;      /* SCHED_FLAG_RESET_ON_FORK (1), the only flag kept */
  unsigned long long runtime_ns; /* fair policies: the slice; 0 for the others */
} FM_sched_attr;

/* Thread `tid` (0: the calling one).  0, or -1 with errno (EINVAL when a is NULL). */
int FM_sched_get(int tid, FM_sched_attr* a);
int FM_sched_set(int tid, const FM_sched_attr* a);
/* Whether `policy` is one of the fair ones (a slice applies). */
int FM_sched_fair(unsigned policy);

#ifdef __cplusplus
}
#endif

#endif /* FM_TOPOLOGY_H */
