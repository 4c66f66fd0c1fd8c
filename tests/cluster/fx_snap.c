/* fx_snap.c: the fixture's snapshots, in memory: taken at once, streamed, received, installed. */
#include "fx_snap.h"

#include "cluster_fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/*
 * A snapshot is (index, term, the digest at index) followed by filler that depends on the
 * index, up to fx->snapshot_bytes: big enough to span many chunks when a test wants it, and
 * checked byte for byte at install. A node's newest snapshot outlives a close (its "disk").
 */

#define FX_SNAP_HEADER 24u
#define FX_SNAP_RECV_MAX (256u * 1024 * 1024)

struct fx_blob {
    uint8_t *data;
    size_t len;
};

struct fx_recv {
    uint64_t index, term;
    uint8_t *data;
    size_t len;
};

static uint8_t filler(uint64_t index, size_t at)
{
    return (uint8_t)((index * 131 + at * 7) >> 3);
}

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int snap_begin(void *ctx, uint64_t index, uint64_t term, bool force)
{
    struct fx_node *fn = ctx;
    (void)force;
    cr_assert_eq(index, fn->applied);
    size_t len = fn->fx->snapshot_bytes > FX_SNAP_HEADER ? fn->fx->snapshot_bytes : FX_SNAP_HEADER;
    uint8_t *data = malloc(len);
    cr_assert(data);
    put_u64(data, index);
    put_u64(data + 8, term);
    put_u64(data + 16, fn->digests[index]);
    for (size_t i = FX_SNAP_HEADER; i < len; i++)
        data[i] = filler(index, i);
    free(fn->snap_data);
    fn->snap_data = data;
    fn->snap_len = len;
    fn->snap_index = index;
    fn->snap_term = term;
    fn->snapshots_taken++;
    cluster_snapshot_done(fn->node, index, true); /* durable at once */
    return 0;
}

/* A copy: it stays readable whatever snapshot the node takes meanwhile. */
static void *snap_open(void *ctx, uint64_t index, uint64_t *size)
{
    struct fx_node *fn = ctx;
    if (!fn->snap_data || fn->snap_index != index)
        return NULL;
    struct fx_blob *b = malloc(sizeof *b);
    cr_assert(b);
    b->data = malloc(fn->snap_len);
    cr_assert(b->data);
    memcpy(b->data, fn->snap_data, fn->snap_len);
    b->len = fn->snap_len;
    *size = b->len;
    fn->snap_opens++;
    return b;
}

static int snap_read(void *ctx, void *snap, uint64_t offset, uint8_t *buf, size_t len)
{
    struct fx_blob *b = snap;
    (void)ctx;
    if (offset > b->len || len > b->len - offset)
        return -1;
    memcpy(buf, b->data + offset, len);
    return 0;
}

static void snap_close(void *ctx, void *snap)
{
    struct fx_blob *b = snap;
    (void)ctx;
    free(b->data);
    free(b);
}

static void *recv_begin(void *ctx, uint64_t index, uint64_t term, uint64_t size)
{
    struct fx_node *fn = ctx;
    if (size > FX_SNAP_RECV_MAX)
        return NULL;
    struct fx_recv *r = calloc(1, sizeof *r);
    cr_assert(r);
    *r = (struct fx_recv){index, term, malloc(size), (size_t)size};
    cr_assert(r->data);
    fn->recv_begun++;
    return r;
}

static int recv_write(void *ctx, void *recv, uint64_t offset, const uint8_t *data, size_t len)
{
    struct fx_recv *r = recv;
    (void)ctx;
    cr_assert(offset <= r->len && len <= r->len - offset, "a write past the snapshot's size");
    memcpy(r->data + offset, data, len);
    return 0;
}

static int recv_sync(void *ctx, void *recv)
{
    (void)ctx, (void)recv;
    return 0;
}

static void recv_abort(void *ctx, void *recv)
{
    struct fx_node *fn = ctx;
    struct fx_recv *r = recv;
    fn->recv_aborted++;
    free(r->data);
    free(r);
}

static int snap_install(void *ctx, void *recv, uint64_t index, uint64_t term)
{
    struct fx_node *fn = ctx;
    struct fx_recv *r = recv;
    bool ok = r->len >= FX_SNAP_HEADER && get_u64(r->data) == index &&
              get_u64(r->data + 8) == term && r->index == index;
    for (size_t i = FX_SNAP_HEADER; ok && i < r->len; i++)
        ok = r->data[i] == filler(index, i);
    if (!ok) {
        free(r->data);
        free(r);
        return -1;
    }
    fx_record(fn, index, get_u64(r->data + 16));
    fn->applied = index;
    fn->applied_term = term;
    free(fn->snap_data);
    fn->snap_data = r->data;
    fn->snap_len = r->len;
    fn->snap_index = index;
    fn->snap_term = term;
    fn->snapshots_restored++;
    free(r);
    return 0;
}

void fx_snap_ops(struct cluster_snapshot_ops *ops)
{
    *ops = (struct cluster_snapshot_ops){
        .begin = snap_begin, .open = snap_open, .read = snap_read, .close = snap_close,
        .recv_begin = recv_begin, .recv_write = recv_write, .recv_sync = recv_sync,
        .recv_abort = recv_abort, .install = snap_install};
}
