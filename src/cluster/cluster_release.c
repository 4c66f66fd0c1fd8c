/* cluster_release.c: the core keeps the payloads of its last snapshot_catchup_entries applied
   entries only; older ones a lagging follower needs are read back from the log for its append. */
#include "cluster_internal.h"

#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* After a turn's advance: the payloads below the kept tail go (the log on disk has them). */
void cluster_release(struct cluster_node *n)
{
    uint64_t applied = consensus_applied_index(n->core), keep = n->cfg.snapshot_catchup_entries;
    if (applied > keep)
        consensus_release(n->core, applied - keep);
}

struct reload {
    struct consensus_entry *ents; /* the message's entries, copied */
    uint32_t count;               /* how many lead without payload */
    uint8_t *at;                  /* where the next payload goes */
    uint32_t next;
};

static int reload_one(void *ctx, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len)
{
    struct reload *r = ctx;
    if (r->next >= r->count)
        return CLUSTER_ERR_IO;
    struct consensus_entry *e = &r->ents[r->next];
    if (e->index != index || e->term != term || e->len != len) {
        log_error("cluster: the log gave entry %llu term %llu (%u bytes) for %llu term %llu "
                  "(%u bytes)", (unsigned long long)index, (unsigned long long)term, len,
                  (unsigned long long)e->index, (unsigned long long)e->term, e->len);
        return CLUSTER_ERR_IO;
    }
    if (len > 0) {
        memcpy(r->at, data, len);
        e->data = r->at;
        r->at += len;
    }
    r->next++;
    return 0;
}

const struct consensus_msg *cluster_reload(struct cluster_node *n, const struct consensus_msg *m,
                                           struct cluster_reloaded *out)
{
    memset(out, 0, sizeof *out);
    /* Released entries are a prefix (no-ops among them have no payload anyway): up to the
       last entry that has a length and no payload. */
    uint32_t hollow = 0, payload_max = 0;
    size_t bytes = 0;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        const struct consensus_entry *e = &m->entries[i];
        if (e->len > 0 && e->data == NULL)
            hollow = i + 1;
    }
    if (hollow == 0)
        return m;
    for (uint32_t i = 0; i < hollow; i++) {
        assert(m->entries[i].data == NULL);
        bytes += m->entries[i].len;
        if (m->entries[i].len > payload_max)
            payload_max = m->entries[i].len;
    }
    struct reload r = {.ents = malloc(m->entry_count * sizeof *r.ents), .count = hollow};
    out->buf = malloc(bytes);
    out->ents = r.ents;
    if (!r.ents || !out->buf)
        return NULL;
    memcpy(r.ents, m->entries, m->entry_count * sizeof *r.ents);
    r.at = out->buf;
    uint64_t from = m->entries[0].index;
    if (n->io->ops->load(n->io, from, from + hollow - 1, payload_max, reload_one, &r) != 0 ||
        r.next != hollow)
        return NULL;
    out->msg = *m;
    out->msg.entries = r.ents;
    return &out->msg;
}

void cluster_reloaded_free(struct cluster_reloaded *r)
{
    free(r->ents);
    free(r->buf);
}
