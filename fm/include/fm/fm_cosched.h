/*
 * fm_cosched.h - what an FM process shares with its host's coscheduling daemon (fm-dcsd):
 *
 *  1. its status page: an anonymous memory file (memfd) of FM_DCS_PAGE_BYTES, sealed at that
 *     size, that the process writes (what it is doing, packets sent to and taken from each
 *     same-host rank of its job) and the daemon reads; only the daemon's line is written by the
 *     daemon.  Same-host peers of the job map it read-only to see whether the process sleeps
 *     (FM's doorbell, below).
 *  2. the registration protocol on the daemon's Unix socket (SOCK_SEQPACKET; by default the
 *     abstract name "@fm-dcsd", one per network namespace): REGISTER carries the page's
 *     descriptor (SCM_RIGHTS); the daemon checks the sender's credentials (SO_PEERCRED) and
 *     answers ACK or NAK; BYE before exit; STATUS asks for the text `fm-dcsd --status` prints.
 *
 * Every multi-byte field is in the host's byte order (both ends run on the same host).  Words
 * that change while others read them are 32- or 64-bit aligned and accessed atomically (relaxed
 * unless said otherwise).  Clients and daemon must treat each other's data as untrusted.
 */
#ifndef FM_FM_COSCHED_H
#define FM_FM_COSCHED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FM_DCS_PAGE_MAGIC 0x3147505344434d46ull /* "FMCDSPG1" */
#define FM_DCS_VERSION 1
#define FM_DCS_PAGE_BYTES 16384
#define FM_DCS_MAX_LOCAL 1000 /* same-host ranks of one job a page can count */
#define FM_DCS_SOCKET "@fm-dcsd"

/* fm_dcs_page.state: what the process's FM thread is doing */
enum {
  FM_DCS_COMPUTING = 0, /* outside FM's waits */
  FM_DCS_SPINNING = 1,  /* in a wait, polling (phase 1) */
  FM_DCS_BLOCKED = 2,   /* in a wait, asleep on its doorbell and transports (phase 2) */
  FM_DCS_FINALIZED = 3  /* past FM_finalize */
};

struct fm_dcs_page {
  /* line 0, written once by the process before it registers */
  uint64_t magic; /* FM_DCS_PAGE_MAGIC */
  uint32_t version;
  int32_t pid;                     /* the process */
  int32_t tid;                     /* its thread that calls FM (the one a boost applies to) */
  uint32_t rank, size;             /* in its job */
  uint32_t local_rank, local_size; /* among the job's ranks on this host */
  uint32_t pad0;
  uint64_t job;   /* the same on every rank of the job, on every host */
  uint64_t nonce; /* random: a reused descriptor or pid is not mistaken for this page */
  char pad1[64 - 56];
  /* line 1, the process: its doorbell state, read by same-host peers after each send to it */
  uint32_t blocked; /* 1 while asleep (FM_DCS_BLOCKED); peers then ring its doorbell */
  uint32_t pad2;
  uint64_t block_epoch; /* +1 each time it goes to sleep: a peer rings once per sleep */
  char pad3[64 - 16];
  /* line 2, the process: for the daemon */
  uint32_t state;   /* FM_DCS_* */
  uint32_t spin_us; /* its current spin bound */
  uint64_t waits;   /* waits entered */
  uint64_t blocks;  /* of them, ended asleep */
  uint64_t wakeups; /* doorbell rings seen */
  char pad4[64 - 32];
  /* line 3, the daemon (the only words it writes) */
  uint32_t daemon_gen;     /* nonzero once a daemon has taken the page */
  uint32_t boosted;        /* 1 while the daemon has raised its priority: spin bound 0 */
  uint32_t host_contended; /* 1 when the host runs more FM ranks than it has CPUs */
  uint32_t host_ranks;     /* FM ranks registered on the host */
  uint64_t boosts;         /* boosts given so far */
  char pad5[64 - 24];
  /* lines 4..: packets the process sent to each same-host rank of its job (by local rank),
   * then packets it took from each: sent[FM_DCS_MAX_LOCAL], taken[FM_DCS_MAX_LOCAL].  Packets
   * pending at rank r = sum over same-host senders s of s.sent[r] - r.taken[s]. */
  uint64_t sent[FM_DCS_MAX_LOCAL];
  uint64_t taken[FM_DCS_MAX_LOCAL];
};

/* registration protocol (SOCK_SEQPACKET, one message per packet) */
#define FM_DCS_MSG_MAGIC 0x43444d46u /* "FMDC" */
enum {
  FM_DCS_REGISTER = 1, /* + SCM_RIGHTS: exactly one descriptor, the page's memfd */
  FM_DCS_BYE = 2,      /* the process finalizes: the daemon forgets it */
  FM_DCS_STATUS = 3,   /* asks for the status text (any local user may) */
  FM_DCS_ACK = 16,
  FM_DCS_NAK = 17,
  FM_DCS_STATUS_TEXT = 18 /* fm_dcs_reply followed by the text, NUL-terminated */
};
enum { FM_DCS_POLICY_NONE = 0, FM_DCS_POLICY_DCS = 1, FM_DCS_POLICY_GANG = 2 };

struct fm_dcs_msg {
  uint32_t magic; /* FM_DCS_MSG_MAGIC */
  uint16_t version;
  uint16_t type; /* FM_DCS_REGISTER, _BYE, _STATUS */
  int32_t pid;   /* must be the sender's (SO_PEERCRED) */
  int32_t tid;   /* a thread of pid */
  uint32_t rank, size, local_rank, local_size;
  uint64_t job;
  char job_name[32]; /* the program's name, NUL-terminated */
};

struct fm_dcs_reply {
  uint32_t magic; /* FM_DCS_MSG_MAGIC */
  uint16_t version;
  uint16_t type;       /* FM_DCS_ACK, _NAK, _STATUS_TEXT */
  uint32_t policy;     /* FM_DCS_POLICY_* */
  uint32_t cpus;       /* CPUs the daemon schedules on (hwloc) */
  uint32_t host_ranks; /* FM ranks registered on the host, this one included */
  int32_t cpu;         /* the CPU this rank should run on (--place), or -1 */
  char reason[96];     /* NAK: why, NUL-terminated */
};

#ifdef __cplusplus
}
#endif

#endif /* FM_FM_COSCHED_H */
