/* versions.h: the version order check. Every answer that names a version is kept in its op
   (kvt_op.version): a write's commit version, a read's version (a get's, or a read-only
   transaction's read version). A read of a key at version V must see the newest acknowledged
   write of that key at or below V: not an older one (a stale or fractured read), not one above
   V (a future read), not nothing when there is one. Writes without a known version (info) are
   left out, and a read of such a write's value is not judged. And each version is one log
   entry: no two acknowledged writes name the same one. */
#ifndef KVT_VERSIONS_H
#define KVT_VERSIONS_H

#include "history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Lines shown per check (per key, and for shared versions in all). */
#define KVT_VERSIONS_SHOWN_MAX 5

struct kvt_versions_result {
    size_t reads, judged, violations;
};

/* Checks the reads of one key's ops (any order) against its writes; prints up to
   KVT_VERSIONS_SHOWN_MAX violations to out, times relative to t0_ns. 0, or -1 (memory). */
int kvt_versions_check_key(const struct kvt_op *ops, size_t n, FILE *out, int64_t t0_ns,
                           struct kvt_versions_result *r);

/* The versions acknowledged writes named, across keys: a growing bit set. */
struct kvt_version_set {
    uint64_t *bits;
    size_t words;
    size_t shared;       /* versions named twice */
};

void kvt_version_set_free(struct kvt_version_set *s);
/* A version beyond this is no log index: a broken answer. */
#define KVT_VERSION_MAX (1ull << 40)

/* Notes an acknowledged write's version; a version seen before is counted in s->shared and
   said on out (the first few). 0; 1 when the version is beyond KVT_VERSION_MAX (said on out:
   a violation); -1 (memory). */
int kvt_version_set_add(struct kvt_version_set *s, const struct kvt_op *op, FILE *out);

#endif
