/*
 * netmod_inline.h - the FM netmod's inline functions.  Everything above active messages
 * (point-to-point matching, RMA, collectives, partitioned) is MPICH's generic layer.
 */
#ifndef NETMOD_INLINE_H_INCLUDED
#define NETMOD_INLINE_H_INCLUDED

#include "netmod_am_fallback.h"
#include "fm_am.h"

/* Not-inlined FM netmod functions */
#include "fm_noinline.h"

#endif /* NETMOD_INLINE_H_INCLUDED */
