/* kv_member_snap.h: the membership section of a snapshot (internal; kv_member_snap.c). */
#ifndef KV_MEMBER_SNAP_H
#define KV_MEMBER_SNAP_H

#include "kv_snap_io.h"
#include "kv_store.h"

/* Writes the store's membership as a section (nothing when it holds none): the last section,
 * right before the trailer. */
void kv_member_section_encode(const kv_store *s, struct kv_snap_out *o);
/* Reads a section of len bytes (its header read) into s. */
int kv_member_section_decode(kv_store *s, struct kv_snap_in *in, uint64_t len);

#endif
