/*
 * fm_pre.h - types the CH4 device embeds in its objects for the FM netmod.
 * MPI-FM is active-messages only: requests, communicators, windows carry nothing of their own.
 */
#ifndef FM_PRE_H_INCLUDED
#define FM_PRE_H_INCLUDED

typedef struct {
    int dummy;
} MPIDI_FM_am_request_t;

typedef struct {
    int dummy;
} MPIDI_FM_request_t;

typedef struct {
    int dummy;
} MPIDI_FM_comm_t;

typedef struct {
    int dummy;
} MPIDI_FM_dt_t;

typedef struct {
    int dummy;
} MPIDI_FM_win_t;

/* An address-vector entry: the FM node id of the process (its rank in MPI_COMM_WORLD). */
typedef struct {
    int node;
} MPIDI_FM_addr_t;

typedef struct {
    int dummy;
} MPIDI_FM_op_t;

typedef struct {
    int dummy;
} MPIDI_FM_part_t;

#endif /* FM_PRE_H_INCLUDED */
