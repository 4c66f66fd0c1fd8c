/* cluster_recover.c: rebuilds the core from the WAL: hard state, snapshot point, entries. */
#include "cluster_internal.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

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

static int keep(void *ctx, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len)
{
    struct recovered *r = ctx;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct consensus_entry *grown = realloc(r->entries, cap * sizeof *grown);
        if (!grown)
            return CLUSTER_ERR_NOMEM;
        r->entries = grown;
        r->cap = cap;
    }
    struct consensus_entry *c = &r->entries[r->count];
    c->index = index;
    c->term = term;
    c->len = len;
    c->data = len ? malloc(len) : NULL;
    if (len && !c->data)
        return CLUSTER_ERR_NOMEM;
    if (len)
        memcpy(c->data, data, len);
    r->count++;
    return 0;
}

/* The server restored its newest snapshot, at or past the log's start: the log keeps a tail
   below it, or lags it (a crash between writing it and compacting, which is fine), or does
   not hold its entry at all (an install cut short after the snapshot was in place): then the
   log restarts after it, as the install would have done. */
static int reconcile(struct cluster_node *n, uint64_t *snap_index, uint64_t *snap_term)
{
    const struct cluster_io_ops *io = n->io->ops;
    uint64_t ai = n->cfg.applied_index, at = n->cfg.applied_term, term = 0;
    if (ai < *snap_index) {
        log_error("cluster: the log starts after %llu but the state is at %llu: entries are "
                  "missing (a snapshot file was lost?)", (unsigned long long)*snap_index,
                  (unsigned long long)ai);
        return CLUSTER_ERR_IO;
    }
    if (ai == *snap_index)
        return 0;
    if (ai <= io->last_index(n->io) && io->term_at(n->io, ai, &term) == 0 && term == at)
        return 0;
    log_warn("cluster: the log (%llu..%llu) does not hold snapshot %llu (term %llu): an install "
             "was cut short; the log restarts after the snapshot",
             (unsigned long long)*snap_index + 1, (unsigned long long)io->last_index(n->io),
             (unsigned long long)ai, (unsigned long long)at);
    if (at == 0 || io->reset(n->io, ai, at) != 0) {
        log_error("cluster: cannot restart the log after snapshot %llu: %s",
                  (unsigned long long)ai, at ? io->last_error(n->io) : "its term is unknown");
        return CLUSTER_ERR_IO;
    }
    *snap_index = ai;
    *snap_term = at;
    return 0;
}

int cluster_recover(struct cluster_node *n, struct consensus_config *cc)
{
    struct consensus_hard_state hs;
    n->io->ops->hard_state_load(n->io, &hs);
    uint64_t snap_index, snap_term;
    n->io->ops->snapshot_point(n->io, &snap_index, &snap_term);
    if (reconcile(n, &snap_index, &snap_term) != 0)
        return CLUSTER_ERR_IO;
    struct recovered r = {0};
    /* A config entry may pass entry_bytes_max (consensus.h, Membership). */
    uint32_t len_max = n->cfg.entry_bytes_max > CONSENSUS_MEMBERSHIP_BYTES_MAX
                           ? n->cfg.entry_bytes_max : CONSENSUS_MEMBERSHIP_BYTES_MAX;
    int rc = n->io->ops->load(n->io, snap_index + 1, n->io->ops->last_index(n->io), len_max,
                              keep, &r);
    if (rc == 0) {
        struct consensus_restore rs = {
            .hard_state = hs,
            .snapshot_index = snap_index,
            .snapshot_term = snap_term,
            .entries = r.entries,
            .entry_count = r.count,
            .applied_index = n->cfg.applied_index > snap_index ? n->cfg.applied_index : 0,
            .applied_term = n->cfg.applied_term,
            .membership = n->cfg.membership,
        };
        if (hs.vote == CLUSTER_VOTE_BAD || consensus_new(cc, &rs, &n->core) != 0) {
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
