/* kv_snap_codec.h: the snapshot codec between the store and a byte stream (internal). */
#ifndef KV_SNAP_CODEC_H
#define KV_SNAP_CODEC_H

#include "kv_snap_io.h"
#include "kv_ring.h"
#include "kv_store.h"

#include <stdbool.h>

extern const char kv_snapshot_magic[8];
extern const char kv_snapshot_end_magic[8];

/* An encoder pinned at the store's applied version: what a snapshot holds is copied or counted
 * at begin (header fields, the window's clock, the sections after the keys), the keys are
 * walked in bounded steps while the store may change between them, as long as every version
 * visible at the pin stays (kv_store_hold_reclaim) and the store is not freed or replaced. */
struct kv_snap_enc {
    const kv_store *s;
    uint64_t at, floor;           /* the pinned applied version and floor */
    int64_t ts_us;
    uint64_t log_term;
    struct kv_digest digest;
    struct kv_ring_entry *clock;  /* the window's clock at the pin */
    size_t clock_len;
    uint8_t *tail;                /* the sections, encoded at the pin */
    size_t tail_len;
    int phase;                    /* counting the keys, encoding them, done */
    uint64_t keys, versions;      /* counted in the first pass, for the header */
    uint8_t *next;                /* the first key the next step visits (with resume) */
    size_t next_len;
    bool resume;
};

/* 0 or KV_ERR_NOMEM. */
int kv_snap_enc_begin(struct kv_snap_enc *e, const kv_store *s);
/* Visits up to `keys` keys and stops once `bytes` more were encoded: 1 while more remains, 0
 * when the whole snapshot went to o (flushed), or o's error. */
int kv_snap_enc_step(struct kv_snap_enc *e, struct kv_snap_out *o, size_t keys, size_t bytes);
void kv_snap_enc_free(struct kv_snap_enc *e);

/* Writes the whole snapshot to o (flushed); returns o's error. */
int kv_snapshot_encode(const kv_store *s, struct kv_snap_out *o);
/* Reads exactly in->size bytes into a new store; *out only on success. */
int kv_snapshot_decode(struct kv_snap_in *in, const struct kv_config *cfg, kv_store **out);

#endif
