/* cluster_recover.c: rebuilds the core from the WAL: hard state, snapshot point, entries. */
#include "cluster_internal.h"

#include "log.h"
#include "wal.h"

#include <stdlib.h>
#include <string.h>

/* Entries read back per wal_read call, and the payload buffer they share. */
#define RECOVER_BATCH 256u

struct recovered {
    struct consensus_entry *entries;
    size_t count;
    size_t cap;
};

static void recovered_free(struct recovered *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->entries[i].data);
    free(r->entries);
}

static int keep(struct recovered *r, const struct wal_entry *e)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct consensus_entry *grown = realloc(r->entries, cap * sizeof *grown);
        if (!grown)
            return CLUSTER_ERR_NOMEM;
        r->entries = grown;
        r->cap = cap;
    }
    struct consensus_entry *c = &r->entries[r->count];
    c->index = e->index;
    c->term = e->term;
    c->len = e->len;
    c->data = e->len ? malloc(e->len) : NULL;
    if (e->len && !c->data)
        return CLUSTER_ERR_NOMEM;
    if (e->len)
        memcpy(c->data, e->data, e->len);
    r->count++;
    return 0;
}

/* Reads every entry after `from` (the applied snapshot) into r. */
static int read_log(struct wal *w, uint64_t from, uint32_t payload_max, struct recovered *r)
{
    size_t buf_len = payload_max + (size_t)64 * 1024;
    uint8_t *buf = malloc(buf_len);
    struct wal_entry *batch = malloc(RECOVER_BATCH * sizeof *batch);
    int rc = buf && batch ? 0 : CLUSTER_ERR_NOMEM;
    for (uint64_t next = from; rc == 0 && next <= wal_last_index(w);) {
        size_t got = 0;
        if (wal_read(w, next, batch, RECOVER_BATCH, buf, buf_len, &got) != 0 || got == 0) {
            log_error("cluster: reading the log at %llu: %s", (unsigned long long)next,
                      wal_last_error(w));
            rc = CLUSTER_ERR_IO;
            break;
        }
        for (size_t i = 0; rc == 0 && i < got; i++)
            rc = keep(r, &batch[i]);
        next += got;
    }
    free(buf);
    free(batch);
    return rc;
}

int cluster_recover(struct cluster_node *n, struct consensus_config *cc)
{
    struct wal_hard_state hs;
    wal_hard_state_get(n->wal, &hs);
    uint64_t snap_index, snap_term;
    wal_snapshot_point(n->wal, &snap_index, &snap_term);
    /* The server's state may be ahead of the WAL's snapshot point (a crash between writing a
       snapshot and compacting): the core starts from whichever is later. */
    if (n->cfg.applied_index > snap_index) {
        snap_index = n->cfg.applied_index;
        snap_term = n->cfg.applied_term;
    }
    struct recovered r = {0};
    int rc = read_log(n->wal, snap_index + 1, n->cfg.entry_bytes_max, &r);
    if (rc == 0) {
        struct consensus_restore rs = {
            .hard_state = {.term = hs.term,
                           .vote = hs.voted_for < 0 ? CONSENSUS_NONE : (uint32_t)hs.voted_for},
            .snapshot_index = snap_index,
            .snapshot_term = snap_term,
            .entries = r.entries,
            .entry_count = r.count,
        };
        if (hs.voted_for >= (int64_t)n->cfg.node_count ||
            consensus_new(cc, &rs, &n->core) != 0) {
            log_error("cluster: the log's state is inconsistent (term %llu, snapshot %llu)",
                      (unsigned long long)hs.term, (unsigned long long)snap_index);
            rc = CLUSTER_ERR_IO;
        }
    }
    recovered_free(&r);
    n->snapshot_index = snap_index;
    n->snapshot_term = snap_term;
    return rc;
}
