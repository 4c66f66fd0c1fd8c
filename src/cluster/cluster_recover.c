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

/* The server restored its newest snapshot, at or past the log's start: the log keeps a tail
   below it, or lags it (a crash between writing it and compacting, which is fine), or does
   not hold its entry at all (an install cut short after the snapshot was in place): then the
   log restarts after it, as the install would have done. */
static int reconcile(struct cluster_node *n, uint64_t *snap_index, uint64_t *snap_term)
{
    uint64_t ai = n->cfg.applied_index, at = n->cfg.applied_term, term = 0;
    if (ai < *snap_index) {
        log_error("cluster: the log starts after %llu but the state is at %llu: entries are "
                  "missing (a snapshot file was lost?)", (unsigned long long)*snap_index,
                  (unsigned long long)ai);
        return CLUSTER_ERR_IO;
    }
    if (ai == *snap_index)
        return 0;
    if (ai <= wal_last_index(n->wal) && wal_term_at(n->wal, ai, &term) == 0 && term == at)
        return 0;
    log_warn("cluster: the log (%llu..%llu) does not hold snapshot %llu (term %llu): an install "
             "was cut short; the log restarts after the snapshot",
             (unsigned long long)*snap_index + 1, (unsigned long long)wal_last_index(n->wal),
             (unsigned long long)ai, (unsigned long long)at);
    if (at == 0 || wal_reset(n->wal, ai, at) != 0) {
        log_error("cluster: cannot restart the log after snapshot %llu: %s",
                  (unsigned long long)ai, at ? wal_last_error(n->wal) : "its term is unknown");
        return CLUSTER_ERR_IO;
    }
    *snap_index = ai;
    *snap_term = at;
    return 0;
}

int cluster_recover(struct cluster_node *n, struct consensus_config *cc)
{
    struct wal_hard_state hs;
    wal_hard_state_get(n->wal, &hs);
    uint64_t snap_index, snap_term;
    wal_snapshot_point(n->wal, &snap_index, &snap_term);
    if (reconcile(n, &snap_index, &snap_term) != 0)
        return CLUSTER_ERR_IO;
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
            .applied_index = n->cfg.applied_index > snap_index ? n->cfg.applied_index : 0,
            .applied_term = n->cfg.applied_term,
        };
        if (hs.voted_for >= (int64_t)n->cfg.node_count ||
            consensus_new(cc, &rs, &n->core) != 0) {
            log_error("cluster: the log's state is inconsistent (term %llu, snapshot %llu)",
                      (unsigned long long)hs.term, (unsigned long long)snap_index);
            rc = CLUSTER_ERR_IO;
        }
    }
    recovered_free(&r);
    n->snapshot_index = n->cfg.applied_index > snap_index ? n->cfg.applied_index : snap_index;
    n->snapshot_term = n->cfg.applied_index > snap_index ? n->cfg.applied_term : snap_term;
    return rc;
}
