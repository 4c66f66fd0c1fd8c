/* watchbench: what a watch fan-out costs (issue 19). W watches wait on one key, spread over C
   connections, while one writer sets that key, R times a second (or in a closed loop, one
   set in flight, as fast as it goes). Prints
   the writer's sets per second and set latency, and for the watchers the changes delivered
   per second and their lag: from a set's send to a watcher's receipt of that change (the
   value carries the send time; one machine, one clock). A watcher watches again from the
   version it was answered, so it misses nothing and may get several changes at once.
     watchbench -e HOST:PORT [-w WATCHES] [-c CONNECTIONS] [-r RATE] [-t SECONDS] [--json]
   W = 0 measures the writer alone. Exits 1 when a watcher missed or repeated a change. */
#include "kvstore.h"
#include "net_pipe.h"
#include "net_sync.h"
#include "thrift.h"

#include <event2/event.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WB_KEY "watchbench/key"
#define WB_TIMEOUT_MS 10000
#define WB_CONNECTIONS_MAX 1024
#define WB_SAMPLES_MAX (1u << 24)
#define WB_DRAIN_NS 2000000000ull   /* after the last set, for its change to reach everyone */

struct wb_samples {
    uint64_t *ns;
    size_t n, cap;
};

struct wb_watcher {
    struct net_pipe c;       /* each watch call's tag is the watch's index */
    int64_t *after;          /* per watch on this connection: the version it waits after */
    uint64_t *seen;          /* per watch: changes it was told of */
    uint32_t watches;
};

static const char *endpoint = "127.0.0.1:9090";
static uint32_t watch_count, conn_count = 1;
static double seconds = 3, rate;
static bool json;
static uint64_t deadline_ns;
static struct wb_samples set_lat, lag, versions;   /* versions: the writer's, in order */
static uint64_t bad_changes;
static atomic_bool writing;   /* the writer's; its samples are read only once it is false */
static int watch_failed;      /* a watcher's connection or answer failed */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sample(struct wb_samples *s, uint64_t ns)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        uint64_t *p = cap <= WB_SAMPLES_MAX ? realloc(s->ns, cap * sizeof *p) : NULL;
        if (!p)
            return;   /* enough samples: the rest are not kept */
        s->ns = p;
        s->cap = cap;
    }
    s->ns[s->n++] = ns;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double quantile_us(struct wb_samples *s, double q)
{
    if (s->n == 0)
        return 0;
    qsort(s->ns, s->n, sizeof *s->ns, by_value);
    return (double)s->ns[(size_t)(q * (double)(s->n - 1))] / 1e3;
}

/* Sets the key to the send time; its version, or -1. */
static int64_t set_now(struct net_sync *c, int32_t seq)
{
    char value[32];
    uint64_t t0 = now_ns();
    snprintf(value, sizeof value, "%" PRIu64, t0);
    SetRequest req;
    SetRequest_init(&req);
    tp_bytes_set_str(&req.key, WB_KEY);
    tp_bytes_set_str(&req.value, value);
    TransactionalKV_setKey_result res;
    TransactionalKV_setKey_result_init(&res);
    tp_buf b;
    tp_buf_init(&b);
    const uint8_t *m;
    size_t n;
    int rc = TransactionalKV_setKey_send(&b, seq, &req) != 0 ||
             net_sync_call(c, b.data, b.len, seq, WB_TIMEOUT_MS, &m, &n) != NET_OK;
    tp_buf_free(&b);
    if (rc == 0) {
        tp_reader r;
        tp_reader_init(&r, m, n, NULL);
        tp_app_exception ax;
        tp_app_exception_init(&ax);
        rc = TransactionalKV_setKey_recv(&r, seq, &res, &ax) != 0 || !res.has_success;
        tp_app_exception_free(&ax);
    }
    int64_t v = rc == 0 && res.success.success ? res.success.version : -1;
    if (v >= 0)
        sample(&set_lat, now_ns() - t0);
    TransactionalKV_setKey_result_free(&res);
    SetRequest_free(&req);
    return v;
}

static void *writer_main(void *arg)
{
    struct net_sync *c = arg;
    int32_t seq = 1;
    uint64_t next = now_ns();
    while (now_ns() < deadline_ns) {
        if (rate > 0) {   /* open loop: at the next intended time */
            uint64_t now = now_ns();
            if (next > now)
                nanosleep(&(struct timespec){(time_t)((next - now) / 1000000000u),
                                             (long)((next - now) % 1000000000u)}, NULL);
            next += (uint64_t)(1e9 / rate);
        }
        int64_t v = set_now(c, ++seq);
        if (v < 0) {
            fprintf(stderr, "watchbench: a set failed\n");
            break;
        }
        sample(&versions, (uint64_t)v);
    }
    atomic_store(&writing, false);
    return NULL;
}

static int watch_send(struct wb_watcher *w, uint32_t i)
{
    WatchRequest q;
    WatchRequest_init(&q);
    q.has_key = true;
    tp_bytes_set_str(&q.key, WB_KEY);
    q.after_version = w->after[i];
    int32_t seqid;
    tp_buf *b = net_pipe_begin(&w->c, &seqid);
    int rc = TransactionalKV_watch_send(b, seqid, &q) != 0 || net_pipe_end(&w->c, i, w, 0) != 0;
    WatchRequest_free(&q);
    return rc ? -1 : 0;
}

/* A watch's answer (the pipe matched it to its call), counted, and the watch sent again. */
static int watch_answer(struct wb_watcher *w, uint32_t i, int32_t seqid, const uint8_t *m,
                        size_t n)
{
    uint64_t now = now_ns();
    tp_reader r;
    tp_reader_init(&r, m, n, NULL);
    TransactionalKV_watch_result res;
    TransactionalKV_watch_result_init(&res);
    tp_app_exception ax;
    tp_app_exception_init(&ax);
    int rc = TransactionalKV_watch_recv(&r, seqid, &res, &ax) != 0 || !res.has_success ||
             !res.success.success ? -1 : 0;
    for (size_t e = 0; rc == 0 && e < res.success.events.count; e++) {
        const WatchEvent *ev = &res.success.events.items[e];
        char text[32] = "";
        memcpy(text, ev->value.data, ev->value.len < 31 ? ev->value.len : 31);
        bad_changes += ev->version <= w->after[i];
        w->after[i] = ev->version;
        w->seen[i]++;
        sample(&lag, now - strtoull(text, NULL, 10));
    }
    if (rc == 0 && res.success.version > w->after[i])
        w->after[i] = res.success.version;
    tp_app_exception_free(&ax);
    TransactionalKV_watch_result_free(&res);
    return rc == 0 ? watch_send(w, i) : rc;
}

static void on_watch_reply(void *ctx, const struct net_pipe_call *call, int err,
                           const uint8_t *msg, size_t len)
{
    struct wb_watcher *w = ctx;
    if (!call || err != NET_OK || watch_answer(w, call->tag, call->seqid, msg, len) != 0)
        watch_failed = 1;
}

/* Whether every watch heard of the writer's last change (its samples are complete). */
static bool all_caught_up(const struct wb_watcher *ws)
{
    int64_t last = versions.n ? (int64_t)versions.ns[versions.n - 1] : 0;
    for (uint32_t i = 0; i < conn_count; i++)
        for (uint32_t j = 0; j < ws[i].watches; j++)
            if (ws[i].after[j] < last)
                return false;
    return true;
}

/* Every watch was told each of the writer's changes it waited past exactly once. */
static void check_seen(const struct wb_watcher *ws, int64_t from)
{
    for (uint32_t i = 0; i < conn_count; i++) {
        for (uint32_t j = 0; j < ws[i].watches; j++) {
            uint64_t due = 0;
            for (size_t k = 0; k < versions.n; k++)
                due += (int64_t)versions.ns[k] > from && (int64_t)versions.ns[k] <= ws[i].after[j];
            if (due != ws[i].seen[j])
                bad_changes++;
        }
    }
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    *(uint64_t *)arg = now_ns();
}

/* Serves every watcher connection until the writer's last change has reached every watch
   (or WB_DRAIN_NS after its end). 0, or -1 when a connection failed. */
static int watch_loop(struct event_base *base, struct wb_watcher *ws)
{
    uint64_t drain_end = 0, now = now_ns();
    struct event *t = event_new(base, -1, EV_PERSIST, tick, &now);
    struct timeval every = {0, 100000};
    if (!t || event_add(t, &every) != 0)
        return -1;
    while (!watch_failed) {
        if (!atomic_load(&writing) && drain_end == 0)
            drain_end = now + WB_DRAIN_NS;
        if (drain_end && (now >= drain_end || all_caught_up(ws)))
            break;
        event_base_loop(base, EVLOOP_ONCE);
        now = now_ns();
    }
    event_free(t);
    return watch_failed ? -1 : 0;
}

static int start_watchers(struct event_base *base, struct wb_watcher *ws, int64_t from)
{
    for (uint32_t i = 0; i < conn_count; i++) {
        struct wb_watcher *w = &ws[i];
        w->watches = watch_count / conn_count + (i < watch_count % conn_count);
        w->after = calloc(w->watches ? w->watches : 1, sizeof *w->after);
        w->seen = calloc(w->watches ? w->watches : 1, sizeof *w->seen);
        struct net_pipe_config cfg = {.base = base, .framed = true, .idle_ms = WB_TIMEOUT_MS,
                                      .on_reply = on_watch_reply, .ctx = w};
        net_pipe_init(&w->c, &cfg);
        if (!w->after || !w->seen || net_pipe_connect(&w->c, endpoint) != NET_OK)
            return -1;
        for (uint32_t j = 0; j < w->watches; j++) {
            w->after[j] = from;
            if (watch_send(w, j) != 0)
                return -1;
        }
    }
    return 0;
}

static void report(double secs)
{
    uint64_t changes = lag.n;
    double sets = (double)versions.n;
    double set_p50 = quantile_us(&set_lat, 0.5), set_p99 = quantile_us(&set_lat, 0.99);
    double lag_p50 = quantile_us(&lag, 0.5), lag_p99 = quantile_us(&lag, 0.99);
    if (json)
        printf("{\"watches\": %u, \"connections\": %u, \"sets_per_s\": %.0f, \"set_p50_us\": "
               "%.1f, \"set_p99_us\": %.1f, \"changes_per_s\": %.0f, \"lag_p50_us\": %.1f, "
               "\"lag_p99_us\": %.1f, \"bad\": %" PRIu64 "}\n", watch_count, conn_count,
               sets / secs, set_p50, set_p99, (double)changes / secs, lag_p50, lag_p99,
               bad_changes);
    else
        printf("%u watches on %u connections: %.0f sets/s (p50 %.1f us, p99 %.1f us), %.0f "
               "changes/s delivered (lag p50 %.1f us, p99 %.1f us)%s\n", watch_count,
               conn_count, sets / secs, set_p50, set_p99, (double)changes / secs, lag_p50,
               lag_p99, bad_changes ? ", SOME MISSED OR REPEATED" : "");
}

static int parse(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        bool more = i + 1 < argc;
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (more && strcmp(argv[i], "-e") == 0)
            endpoint = argv[++i];
        else if (more && strcmp(argv[i], "-w") == 0)
            watch_count = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (more && strcmp(argv[i], "-c") == 0)
            conn_count = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (more && strcmp(argv[i], "-t") == 0)
            seconds = strtod(argv[++i], NULL);
        else if (more && strcmp(argv[i], "-r") == 0)
            rate = strtod(argv[++i], NULL);
        else
            return -1;
    }
    return conn_count >= 1 && conn_count <= WB_CONNECTIONS_MAX && seconds > 0 &&
           seconds <= 3600 && rate >= 0 && rate <= 1e6 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (parse(argc, argv) != 0) {
        fputs("usage: watchbench -e HOST:PORT [-w WATCHES] [-c CONNECTIONS] [-r RATE] "
              "[-t SECONDS] [--json]\n", stderr);
        return 2;
    }
    if (watch_count < conn_count)
        conn_count = watch_count ? watch_count : 1;
    struct net_sync wc;
    struct event_base *base = event_base_new();
    struct wb_watcher *ws = calloc(conn_count, sizeof *ws);
    int64_t from;
    if (!base || !ws || net_sync_connect(&wc, endpoint, true, NULL, WB_TIMEOUT_MS) != NET_OK ||
        (from = set_now(&wc, 1)) < 0 || (watch_count && start_watchers(base, ws, from) != 0)) {
        fprintf(stderr, "watchbench: cannot reach %s\n", endpoint);
        return 3;
    }
    set_lat.n = 0;
    pthread_t writer;
    uint64_t t0 = now_ns();
    deadline_ns = t0 + (uint64_t)(seconds * 1e9);
    atomic_store(&writing, true);
    if (pthread_create(&writer, NULL, writer_main, &wc) != 0)
        return 3;
    int rc = watch_count ? watch_loop(base, ws) : 0;
    pthread_join(writer, NULL);
    double secs = (double)(now_ns() - t0) / 1e9;
    if (secs > seconds)
        secs = seconds;   /* the writer's time; deliveries after it are its changes' */
    if (rc != 0)
        fprintf(stderr, "watchbench: a watcher's connection failed\n");
    check_seen(ws, from);
    report(secs);
    for (uint32_t i = 0; i < conn_count; i++) {
        net_pipe_free(&ws[i].c);
        free(ws[i].after);
        free(ws[i].seen);
    }
    net_sync_close(&wc);
    free(ws);
    event_base_free(base);
    free(set_lat.ns);
    free(lag.ns);
    free(versions.ns);
    return rc != 0 || bad_changes ? 1 : 0;
}
