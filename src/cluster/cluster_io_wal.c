/* cluster_io_wal.c: the production cluster_io: the WAL, its sync thread, CLOCK_MONOTONIC, libevent. */
#include "cluster_io_wal.h"

#include "cluster_internal.h" /* cluster_now_ms */
#include "log.h"
#include "net_turn.h"
#include "wal.h"

#include <assert.h>
#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

/* Entries read back per wal_read call during recovery. */
#define LOAD_BATCH 256u

struct io_wal {
    struct cluster_io io; /* first: the ops get it */
    struct wal *wal;
    struct event *tick_ev;
    struct net_turn_part turn; /* the ready turn: a step of the loop's end of turn */
    struct cluster_io_sync *sync; /* NULL: no background syncs */
};

static struct io_wal *of(struct cluster_io *io)
{
    return (struct io_wal *)io;
}

static const struct wal *wal_of(const struct cluster_io *io)
{
    return ((const struct io_wal *)io)->wal;
}

static uint64_t w_last_index(const struct cluster_io *io)
{
    return wal_last_index(wal_of(io));
}

static uint64_t w_durable_index(const struct cluster_io *io)
{
    return wal_durable_index(wal_of(io));
}

static int w_term_at(const struct cluster_io *io, uint64_t index, uint64_t *term)
{
    return wal_term_at(wal_of(io), index, term) == 0 ? 0 : CLUSTER_ERR_IO;
}

static void w_snapshot_point(const struct cluster_io *io, uint64_t *index, uint64_t *term)
{
    wal_snapshot_point(wal_of(io), index, term);
}

static int w_load(struct cluster_io *io, uint64_t from, uint64_t to, uint32_t payload_max,
                  cluster_io_entry_fn each, void *ctx)
{
    struct wal *w = of(io)->wal;
    size_t buf_len = payload_max + (size_t)64 * 1024;
    uint8_t *buf = malloc(buf_len);
    struct wal_entry *batch = malloc(LOAD_BATCH * sizeof *batch);
    int rc = buf && batch ? 0 : CLUSTER_ERR_NOMEM;
    if (to > wal_last_index(w))
        to = wal_last_index(w);
    for (uint64_t next = from; rc == 0 && next <= to;) {
        size_t got = 0, want = to - next + 1 < LOAD_BATCH ? (size_t)(to - next + 1) : LOAD_BATCH;
        if (wal_read(w, next, batch, want, buf, buf_len, &got) != 0 || got == 0) {
            log_error("cluster: reading the log at %llu: %s", (unsigned long long)next,
                      wal_last_error(w));
            rc = CLUSTER_ERR_IO;
            break;
        }
        for (size_t i = 0; rc == 0 && i < got; i++)
            rc = each(ctx, batch[i].index, batch[i].term, batch[i].data, batch[i].len);
        next += got;
    }
    free(buf);
    free(batch);
    return rc;
}

static int w_append(struct cluster_io *io, uint64_t index, uint64_t term, const void *data,
                    uint32_t len)
{
    return wal_append(of(io)->wal, index, term, data, len) == 0 ? 0 : CLUSTER_ERR_IO;
}

static int w_truncate_suffix(struct cluster_io *io, uint64_t from)
{
    return wal_truncate_suffix(of(io)->wal, from) == 0 ? 0 : CLUSTER_ERR_IO;
}

static int w_reset(struct cluster_io *io, uint64_t index, uint64_t term)
{
    return wal_reset(of(io)->wal, index, term) == 0 ? 0 : CLUSTER_ERR_IO;
}

static int w_compact(struct cluster_io *io, uint64_t index, uint64_t term)
{
    return wal_compact(of(io)->wal, index, term) == 0 ? 0 : CLUSTER_ERR_IO;
}

/* The WAL keeps a vote as an int64 (-1: none); one out of a node id's range stays out of it
   (a uint32 the recovery refuses), never CONSENSUS_NONE by accident. */
static void w_hard_state_load(const struct cluster_io *io, struct consensus_hard_state *out)
{
    struct wal_hard_state hs;
    wal_hard_state_get(wal_of(io), &hs);
    out->term = hs.term;
    out->vote = hs.voted_for < 0                            ? CONSENSUS_NONE
                : hs.voted_for >= (int64_t)CLUSTER_VOTE_BAD ? CLUSTER_VOTE_BAD
                                                          : (uint32_t)hs.voted_for;
}

static int w_hard_state_save(struct cluster_io *io, const struct consensus_hard_state *hs)
{
    struct wal_hard_state w = {
        .term = hs->term,
        .voted_for = hs->vote == CONSENSUS_NONE ? -1 : (int64_t)hs->vote,
        .commit_index = 0,
    };
    return wal_hard_state_save(of(io)->wal, &w) == 0 ? 0 : CLUSTER_ERR_IO;
}

static const char *w_last_error(const struct cluster_io *io)
{
    return wal_last_error(wal_of(io));
}

int64_t cluster_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t w_now_ms(const struct cluster_io *io)
{
    (void)io;
    return cluster_now_ms();
}

/* Under storage.fsync N ms wal_sync_due() syncs at most every N ms; else at once. */
static int w_sync_due(struct cluster_io *io)
{
    return wal_sync_due(of(io)->wal, (uint64_t)cluster_now_ms()) == 0 ? 0 : CLUSTER_ERR_IO;
}

static int w_sync_start(struct cluster_io *io)
{
    assert(of(io)->sync); /* made with background syncs */
    return cluster_io_sync_start(of(io)->sync);
}

static bool w_sync_in_flight(const struct cluster_io *io)
{
    const struct io_wal *w = (const struct io_wal *)io;
    return w->sync && cluster_io_sync_in_flight(w->sync);
}

static int w_sync_wait(struct cluster_io *io)
{
    return of(io)->sync ? cluster_io_sync_wait(of(io)->sync) : 0;
}

static void on_synced(void *ctx, int rc)
{
    struct io_wal *w = ctx;
    if (w->io.node)
        cluster_io_synced(w->io.node, rc == 0);
}

static void on_tick(int fd, short what, void *arg)
{
    struct io_wal *w = arg;
    (void)fd;
    (void)what;
    if (w->io.node)
        cluster_io_tick(w->io.node);
}

static void on_turn(void *arg)
{
    struct io_wal *w = arg;
    if (w->io.node)
        cluster_io_turn(w->io.node);
}

static int w_tick_start(struct cluster_io *io, uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return event_add(of(io)->tick_ev, &tv) == 0 ? 0 : CLUSTER_ERR_NOMEM;
}

static void w_tick_stop(struct cluster_io *io)
{
    event_del(of(io)->tick_ev);
}

/* The production "schedule a turn": the ready turn step of the loop's end of turn
   (net_turn.h), after this iteration's reads and timers, before the replies and flushes. */
static void w_schedule(struct cluster_io *io)
{
    net_turn_want(&of(io)->turn);
}

static const struct cluster_io_ops wal_ops = {
    .last_index = w_last_index,
    .durable_index = w_durable_index,
    .term_at = w_term_at,
    .snapshot_point = w_snapshot_point,
    .load = w_load,
    .append = w_append,
    .truncate_suffix = w_truncate_suffix,
    .reset = w_reset,
    .compact = w_compact,
    .hard_state_load = w_hard_state_load,
    .hard_state_save = w_hard_state_save,
    .last_error = w_last_error,
    .sync_due = w_sync_due,
    .sync_start = w_sync_start,
    .sync_in_flight = w_sync_in_flight,
    .sync_wait = w_sync_wait,
    .now_ms = w_now_ms,
    .tick_start = w_tick_start,
    .tick_stop = w_tick_stop,
    .schedule = w_schedule,
};

int cluster_io_wal_new(struct event_base *base, struct wal *wal, bool background,
                       struct cluster_io **out)
{
    struct io_wal *w = calloc(1, sizeof *w);
    if (!w)
        return CLUSTER_ERR_NOMEM;
    w->io.ops = &wal_ops;
    w->wal = wal;
    w->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, w);
    int rc = w->tick_ev && net_turn_join(&w->turn, base, NET_TURN_READY, on_turn, w) == 0
                 ? 0
                 : CLUSTER_ERR_NOMEM;
    if (rc == 0 && background)
        rc = cluster_io_sync_open(base, wal, on_synced, w, &w->sync);
    if (rc != 0) {
        cluster_io_wal_free(&w->io);
        return rc;
    }
    *out = &w->io;
    return 0;
}

void cluster_io_wal_free(struct cluster_io *io)
{
    if (!io)
        return;
    struct io_wal *w = of(io);
    cluster_io_sync_close(w->sync);
    if (w->tick_ev)
        event_free(w->tick_ev);
    net_turn_leave(&w->turn);
    free(w);
}
