/* kv_snap_codec.h: the snapshot codec between the store and a byte stream (internal). */
#ifndef KV_SNAP_CODEC_H
#define KV_SNAP_CODEC_H

#include "kv_snap_io.h"
#include "kv_store.h"

extern const char kv_snapshot_magic[8];
extern const char kv_snapshot_end_magic[8];

/* Writes the whole snapshot to o (flushed); returns o's error. */
int kv_snapshot_encode(const kv_store *s, struct kv_snap_out *o);
/* Reads exactly in->size bytes into a new store; *out only on success. */
int kv_snapshot_decode(struct kv_snap_in *in, const struct kv_config *cfg, kv_store **out);

#endif
