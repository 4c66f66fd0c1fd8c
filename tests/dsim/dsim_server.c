/* dsim_server.c: the server's side in the simulator: a model state machine and its snapshots. */
#include "dsim.h"

#include <stdlib.h>
#include <string.h>

#define BLOB_MAGIC 0x4453494d534e4150ull /* "DSIMSNAP" */
/* Snapshots carry padding so that most stream in several chunks. */
#define BLOB_PAD_MAX (3u * CLUSTER_SNAPSHOT_CHUNK_BYTES)
#define BLOB_SIZE_MAX (64u * 1024 * 1024)

uint64_t dsim_hash(const uint8_t *data, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    return h;
}

static struct dsim_node *node_of(void *ctx)
{
    return ctx;
}

static int apply(void *ctx, uint64_t index, uint64_t term, const uint8_t *data, uint32_t len,
                 void *proposal)
{
    struct dsim_node *n = node_of(ctx);
    const struct dsim_op *op = proposal; /* the client's, when it proposed this very entry */
    if (op && (op->read || op->done || op->node != n->id ||
               op->payload_hash != dsim_hash(data, len)))
        dsim_world_fail(n->w, "node %u applied %llu for a proposal that is not this entry",
                        n->id, (unsigned long long)index);
    if (index != n->sm.applied + 1)
        dsim_world_fail(n->w, "node %u applied %llu after %llu", n->id,
                        (unsigned long long)index, (unsigned long long)n->sm.applied);
    if (len >= 9) {
        uint64_t id;
        memcpy(&id, data, sizeof id);
        n->sm.reg[data[8] % DSIM_KEYS] = id;
    }
    uint64_t h = len ? dsim_hash(data, len) : term;
    n->sm.digest = (n->sm.digest ^ h) * 0x9e3779b97f4a7c15ull + index;
    n->sm.applied = index;
    n->sm.applied_term = term;
    /* A process that died inside the sync that returned (dsim_io.c, dies) applies nothing
       anyone sees: a sole voter's commit of what that sync held must not reach the history
       (with peers to count, nothing of it leaves the node to be committed elsewhere). */
    if (!n->dying)
        dsim_check_applied(n->w, n->id, index, term, data, len);
    if (op)
        dsim_forward_answer((struct dsim_op *)op); /* the server answers a forward here */
    return 0;
}

static bool blob_state(const uint8_t *data, size_t len, struct dsim_sm *out);

static void membership(void *ctx, uint64_t index, const struct consensus_membership *m)
{
    dsim_member_applied(node_of(ctx), index, m);
}

static int recv_membership(void *ctx, void *recv, struct consensus_membership *out)
{
    (void)ctx;
    struct dsim_blob *b = recv;
    struct dsim_sm sm;
    if (!blob_state(b->data, b->len, &sm))
        return -1;
    *out = sm.conf;
    return 0;
}

static void role_changed(void *ctx, enum consensus_role role, uint64_t term, uint32_t leader)
{
    (void)leader;
    struct dsim_node *n = node_of(ctx);
    dsim_check_role(n->w, n->id, role, term);
}

void dsim_blob_unref(struct dsim_blob *b)
{
    if (b && --b->refs == 0) {
        free(b->data);
        free(b);
    }
}

static struct dsim_blob *blob_of_state(struct dsim_world *w, const struct dsim_sm *sm)
{
    struct dsim_blob *b = calloc(1, sizeof *b);
    /* A quarter of them span up to four chunks; the rest fit in one. */
    size_t pad = w->snap_pad ? w->snap_pad
                             : (size_t)dsim_below(&w->rng, dsim_chance(&w->rng, 250000) ? BLOB_PAD_MAX
                                                                                       : 4096);
    size_t len = 8 + sizeof *sm + pad;
    if (!b || !(b->data = malloc(len)))
        abort();
    uint64_t magic = BLOB_MAGIC;
    memcpy(b->data, &magic, 8);
    memcpy(b->data + 8, sm, sizeof *sm);
    for (size_t i = 0; i < pad; i++) /* bytes the receiver's checksum must see in place */
        b->data[8 + sizeof *sm + i] = (uint8_t)(sm->digest >> (i % 8 * 8)) ^ (uint8_t)i;
    b->len = len;
    b->refs = 1;
    b->index = sm->applied;
    b->term = sm->applied_term;
    return b;
}

/* The model a snapshot holds, false when its bytes are not one. */
static bool blob_state(const uint8_t *data, size_t len, struct dsim_sm *out)
{
    uint64_t magic;
    if (len < 8 + sizeof *out)
        return false;
    memcpy(&magic, data, 8);
    memcpy(out, data + 8, sizeof *out);
    for (size_t i = 8 + sizeof *out; i < len; i++)
        if (data[i] != ((uint8_t)(out->digest >> ((i - 8 - sizeof *out) % 8 * 8)) ^
                        (uint8_t)(i - 8 - sizeof *out)))
            return false;
    return magic == BLOB_MAGIC;
}

static int snap_begin(void *ctx, uint64_t index, uint64_t term, bool force)
{
    (void)force;
    struct dsim_node *n = node_of(ctx);
    struct dsim_world *w = n->w;
    if (n->taking)
        return 1;
    if (index != n->sm.applied || term != n->sm.applied_term) {
        dsim_world_fail(w, "node %u asked for a snapshot at %llu (term %llu), applied %llu "
                           "(term %llu)", n->id, (unsigned long long)index,
                        (unsigned long long)term, (unsigned long long)n->sm.applied,
                        (unsigned long long)n->sm.applied_term);
        return 1;
    }
    n->taking = blob_of_state(w, &n->sm);
    dsim_world_schedule(w, w->now + 1 + dsim_below(&w->rng, 30), DSIM_EV_SNAP_DONE, n->id, index,
                        NULL);
    return 0;
}

void dsim_server_snap_done(struct dsim_node *n, uint64_t index)
{
    struct dsim_blob *b = n->taking;
    if (!b || b->index != index)
        return;
    if (n->hold_snap) { /* a named scenario releases it (dsim_script.c) */
        n->snap_parked = true;
        n->parked_snap_index = index;
        return;
    }
    n->taking = NULL;
    bool ok = !dsim_chance(&n->w->rng, n->w->faults.io_error_ppm);
    if (ok && n->snap && n->snap->index >= b->index) {
        dsim_blob_unref(b); /* an installed one passed it while it was written: it stays */
    } else if (ok) {
        dsim_blob_unref(n->snap);
        n->snap = b;
        n->w->stats.snapshots++;
    } else {
        dsim_blob_unref(b);
    }
    n->busy++;
    cluster_snapshot_done(n->node, index, ok);
    n->busy--;
    dsim_check_turn(n->w, n->id);
}

static void *snap_open(void *ctx, uint64_t index, uint64_t *size)
{
    struct dsim_node *n = node_of(ctx);
    if (!n->snap || n->snap->index != index)
        return NULL;
    n->snap->refs++;
    *size = n->snap->len;
    return n->snap;
}

static int snap_read(void *ctx, void *snap, uint64_t offset, uint8_t *buf, size_t len)
{
    (void)ctx;
    struct dsim_blob *b = snap;
    if (offset > b->len || len > b->len - offset)
        return -1;
    memcpy(buf, b->data + offset, len);
    return 0;
}

static void snap_close(void *ctx, void *snap)
{
    (void)ctx;
    dsim_blob_unref(snap);
}

static void *recv_begin(void *ctx, uint64_t index, uint64_t term, uint64_t size)
{
    (void)ctx;
    if (size > BLOB_SIZE_MAX)
        return NULL;
    struct dsim_blob *b = calloc(1, sizeof *b);
    if (!b || !(b->data = malloc(size ? size : 1)))
        abort();
    *b = (struct dsim_blob){.refs = 1, .index = index, .term = term, .data = b->data, .len = 0};
    return b;
}

/* An injected failure of the server's storage; fatal ones (the install) must fail-stop the
   node, as the log's do. */
static bool server_fails(struct dsim_node *n, bool fatal)
{
    if (!dsim_chance(&n->w->rng, n->w->faults.io_error_ppm))
        return false;
    n->io_error |= fatal;
    n->w->stats.io_errors++;
    return true;
}

static int recv_write(void *ctx, void *recv, uint64_t offset, const uint8_t *data, size_t len)
{
    struct dsim_node *n = node_of(ctx);
    struct dsim_blob *b = recv;
    if (server_fails(n, false))
        return -1;
    if (offset != b->len || len > BLOB_SIZE_MAX - offset) {
        dsim_world_fail(n->w, "node %u: snapshot bytes written out of order", n->id);
        return -1;
    }
    memcpy(b->data + offset, data, len);
    b->len += len;
    return 0;
}

static int recv_sync(void *ctx, void *recv)
{
    (void)recv;
    return server_fails(node_of(ctx), false) ? -1 : 0;
}

static void recv_abort(void *ctx, void *recv)
{
    (void)ctx;
    dsim_blob_unref(recv);
}

static int install(void *ctx, void *recv, uint64_t index, uint64_t term)
{
    struct dsim_node *n = node_of(ctx);
    struct dsim_blob *b = recv;
    struct dsim_sm sm;
    if (server_fails(n, true)) {
        dsim_blob_unref(b);
        return -1;
    }
    if (!blob_state(b->data, b->len, &sm) || sm.applied != index || sm.applied_term != term) {
        dsim_world_fail(n->w, "node %u installs snapshot %llu whose bytes are not it", n->id,
                        (unsigned long long)index);
        dsim_blob_unref(b);
        return -1;
    }
    n->sm = sm;
    dsim_blob_unref(n->snap);
    n->snap = b;
    n->installs++;
    n->w->stats.installs++;
    dsim_check_state(n->w, n->id);
    return 0;
}

void dsim_server_callbacks(struct dsim_node *n, struct cluster_callbacks *cb)
{
    *cb = (struct cluster_callbacks){
        .apply = apply,
        .snap = {.begin = snap_begin, .open = snap_open, .read = snap_read, .close = snap_close,
                 .recv_begin = recv_begin, .recv_write = recv_write, .recv_sync = recv_sync,
                 .recv_abort = recv_abort, .recv_membership = recv_membership,
                 .install = install},
        .membership = membership,
        .role_changed = role_changed,
        .ctx = n,
    };
}

/* The state a restart comes back with: the newest durable snapshot's, or nothing. */
void dsim_server_restore(struct dsim_node *n)
{
    memset(&n->sm, 0, sizeof n->sm);
    dsim_member_bootstrap(n->w, &n->sm);
    if (n->snap && !blob_state(n->snap->data, n->snap->len, &n->sm))
        dsim_world_fail(n->w, "node %u's snapshot does not read back", n->id);
}
