/* wal_seg.c: one segment's record places in memory. */
#include "wal_seg.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int wal_seg_push_loc(struct wal_errmsg *err, struct wal_seg *s, uint64_t offset, uint64_t term)
{
    assert(s->count <= s->cap);
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *s->locs)
            return wal_fail(err, WAL_ERR_NOMEM, "segment index too large");
        struct wal_loc *locs = realloc(s->locs, cap * sizeof *locs);
        if (!locs)
            return wal_fail(err, WAL_ERR_NOMEM, "segment index of %zu entries", cap);
        s->locs = locs;
        s->cap = cap;
    }
    s->locs[s->count].offset = offset;
    s->locs[s->count].term = term;
    s->count++;
    return 0;
}

void wal_seg_free(struct wal_seg *s)
{
    free(s->locs);
    memset(s, 0, sizeof *s);
}
