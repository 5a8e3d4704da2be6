/*
 * netmod_inline.h - the FM netmod's inline functions.  Point-to-point matching, RMA, collectives
 * and partitioned communication are MPICH's generic layer (MPIDIG) over FM active messages; small
 * point-to-point sends take a shorter way into it (fm_send.h).
 */
#ifndef NETMOD_INLINE_H_INCLUDED
#define NETMOD_INLINE_H_INCLUDED

#include "netmod_am_fallback_recv.h"
#include "netmod_am_fallback_probe.h"
#include "netmod_am_fallback_rma.h"
#include "netmod_am_fallback_coll.h"
#include "netmod_am_fallback_part.h"
#include "fm_am.h"
#include "fm_send.h"

/* Not-inlined FM netmod functions */
#include "fm_noinline.h"

#endif /* NETMOD_INLINE_H_INCLUDED */
