/*
 * fm_status.h - FM's status codes: FM_SUCCESS (0) or a negative FM_E* code.  Included by fm.h;
 * on its own for code that only passes statuses around (FM's own utilities).
 */
#ifndef FM_FM_STATUS_H
#define FM_FM_STATUS_H

/* Status codes.  FM_EAGAIN is the only "retry" status: call FM_extract (outside a handler) or
 * return from the handler, and try again. */
enum {
  FM_SUCCESS = 0,
  FM_EAGAIN = -1,        /* resources temporarily unavailable (credits inside a handler) */
  FM_EINVAL = -2,        /* invalid argument */
  FM_ENODEST = -3,       /* destination node out of range */
  FM_EHANDLER = -4,      /* handler id out of range or not registered */
  FM_ELENGTH = -5,       /* beyond the message's declared length */
  FM_ESTREAM = -6,       /* stream not valid here (wrong kind, closed, outside its handler) */
  FM_ENOTINIT = -7,      /* FM not initialized, or already finalized */
  FM_EPEERFAILED = -8,   /* a peer died or became unreachable */
  FM_ENOPROVIDER = -9,   /* the requested libfabric provider is not available */
  FM_ELAUNCH = -10,      /* launcher (PMI) problem */
  FM_ENOMEM = -11,       /* out of memory */
  FM_EBUSY = -12,        /* a stream to this destination is already open */
  FM_EINHANDLER = -13,   /* call not allowed inside a handler */
  FM_ETRANSPORT = -14,   /* transport (libfabric) error */
  FM_EUNSUPPORTED = -15, /* operation not supported by this transport */
  FM_ETIMEDOUT = -16,    /* a bounded wait expired */
  FM_EALREADY = -17,     /* already initialized */
  FM_EACCESS = -18 /* remote memory access refused: unknown key, out of bounds, not permitted */
};

#endif /* FM_FM_STATUS_H */
