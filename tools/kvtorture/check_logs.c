/* check_logs.c: a streamed history checked shard by shard: count, pack keys into shards,
   split the logs into shard files, then load, check and free each shard. */
#include "check_logs.h"
#include "hlog.h"
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PATH_BYTES 1024

void kvt_logs_worker_path(const char *dir, unsigned i, char *out, size_t size)
{
    snprintf(out, size, "%s/worker-%u.ops", dir, i);
}

static void shard_path(const char *dir, size_t i, char *out, size_t size)
{
    snprintf(out, size, "%s/shard-%zu.ops", dir, i);
}

/* Calls fn(op, arg) for every op of every worker log; 0, or -1 (message printed). */
static int each_op(const struct kvt_logs *l, int (*fn)(const struct kvt_op *, void *), void *arg)
{
    for (unsigned i = 0; i < l->workers; i++) {
        char path[PATH_BYTES];
        kvt_logs_worker_path(l->dir, i, path, sizeof path);
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "kvtorture: cannot open %s: %s\n", path, strerror(errno));
            return -1;
        }
        struct kvt_op op;
        int got, rc = 0;
        while ((got = kvt_hlog_next(f, &op)) == 1 && (rc = fn(&op, arg)) == 0)
            ;
        fclose(f);
        if (got < 0 || rc != 0) {
            fprintf(stderr, "kvtorture: %s: %s\n", path,
                    got < 0 ? "a torn or foreign record" : "an op beyond the keys, or no memory"
                                                           " or disk for it");
            return -1;
        }
    }
    return 0;
}

struct counting {
    const struct kvt_logs *l;
    struct kvt_logs_stats *s;
    size_t *per_key;
    uint32_t keys;
};

static int count_op(const struct kvt_op *op, void *arg)
{
    struct counting *c = arg;
    if (op->key >= c->keys)
        return -1;
    c->per_key[op->key]++;
    c->s->ops++;
    c->s->counts.n[op->type][op->outcome]++;
    int64_t at = (op->invoke_ns - c->l->start_ns) / 1000000000;
    size_t bin = at < 0 ? 0 : (size_t)at < c->l->seconds ? (size_t)at : c->l->seconds - 1;
    c->s->per_second[bin].ops++;
    c->s->per_second[bin].ok += op->outcome == KVT_OK;
    if (op->type != KVT_CAS)
        c->s->per_second[bin].rw[op->outcome]++;
    return 0;
}

struct key_load {
    size_t ops;
    uint32_t key;
};

static int heaviest_first(const void *a, const void *b)
{
    const struct key_load *x = a, *y = b;
    return (x->ops < y->ops) - (x->ops > y->ops);
}

/* Heaviest key first, each into the lightest shard: no shard much over the bound unless one
   key alone is. Fills shard_of[key]; the shard count, or 0 (memory). */
static size_t pack(const size_t *per_key, uint32_t keys, size_t total, size_t max,
                   uint32_t *shard_of)
{
    size_t shards = total / max + 1;
    size_t *load = calloc(shards, sizeof *load);
    struct key_load *order = malloc((keys ? keys : 1) * sizeof *order);
    if (!load || !order) {
        free(load);
        free(order);
        return 0;
    }
    for (uint32_t k = 0; k < keys; k++)
        order[k] = (struct key_load){per_key[k], k};
    qsort(order, keys, sizeof *order, heaviest_first);
    for (uint32_t i = 0; i < keys; i++) {
        size_t light = 0;
        for (size_t j = 1; j < shards; j++)
            light = load[j] < load[light] ? j : light;
        shard_of[order[i].key] = (uint32_t)light;
        load[light] += order[i].ops;
    }
    free(load);
    free(order);
    return shards;
}

struct splitting {
    FILE **files;
    const uint32_t *shard_of;
};

static int split_op(const struct kvt_op *op, void *arg)
{
    struct splitting *sp = arg;
    return kvt_hlog_put(sp->files[sp->shard_of[op->key]], op);
}

static int add_op(const struct kvt_op *op, void *arg)
{
    return kvt_history_add(arg, op);
}

/* Loads shard i (or every log when there is one shard) and checks it. 0 or -1. */
static int check_shard(const struct kvt_logs *l, struct kvt_check *c, size_t i, size_t shards,
                       FILE *history)
{
    struct kvt_history h;
    kvt_history_init(&h);
    int rc = 0;
    if (shards == 1) {
        rc = each_op(l, add_op, &h);
    } else {
        char path[PATH_BYTES];
        shard_path(l->dir, i, path, sizeof path);
        FILE *f = fopen(path, "rb");
        struct kvt_op op;
        int got = 0;
        while (f && (got = kvt_hlog_next(f, &op)) == 1 && (rc = kvt_history_add(&h, &op)) == 0)
            ;
        rc = !f || got < 0 ? -1 : rc;
        if (f)
            fclose(f);
        remove(path);
    }
    if (rc == 0 && history && kvt_history_write_lines(history, &h) != 0)
        rc = -1;
    if (rc == 0)
        rc = kvt_check_history(c, &h);
    kvt_history_free(&h);
    return rc;
}

/* Writes every op into its shard's file. 0 or -1. */
static int split(const struct kvt_logs *l, const uint32_t *shard_of, size_t shards)
{
    FILE **files = calloc(shards, sizeof *files);
    int rc = files ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < shards; i++) {
        char path[PATH_BYTES];
        shard_path(l->dir, i, path, sizeof path);
        rc = (files[i] = fopen(path, "wb")) ? 0 : -1;
    }
    struct splitting sp = {files, shard_of};
    if (rc == 0)
        rc = each_op(l, split_op, &sp);
    for (size_t i = 0; files && i < shards; i++)
        if (files[i] && fclose(files[i]) != 0)
            rc = -1;
    free(files);
    return rc;
}

static int check_all(const struct kvt_logs *l, struct kvt_check *c, struct kvt_logs_stats *s,
                     const size_t *per_key, FILE *history)
{
    uint32_t *shard_of = malloc((c->keys ? c->keys : 1) * sizeof *shard_of);
    int rc = shard_of ? 0 : -1;
    size_t max = l->shard_ops_max ? l->shard_ops_max : KVT_SHARD_OPS_MAX;
    s->shards = 1;
    if (rc == 0 && s->ops > max) {
        s->shards = pack(per_key, c->keys, s->ops, max, shard_of);
        rc = s->shards ? split(l, shard_of, s->shards) : -1;
        if (rc != 0)
            fprintf(stderr, "kvtorture: cannot write shard files in %s\n", l->dir);
    }
    for (size_t i = 0; rc == 0 && i < s->shards; i++)
        rc = check_shard(l, c, i, s->shards, history);
    free(shard_of);
    return rc == 0 ? kvt_check_finish(c) : rc;
}

int kvt_logs_check(const struct kvt_logs *l, struct kvt_check *c, struct kvt_logs_stats *s,
                   FILE *history)
{
    memset(s, 0, sizeof *s);
    s->per_second = calloc(l->seconds ? l->seconds : 1, sizeof *s->per_second);
    size_t *per_key = calloc(c->keys ? c->keys : 1, sizeof *per_key);
    struct kvt_logs lc = *l;
    lc.seconds = l->seconds ? l->seconds : 1;
    struct counting cn = {&lc, s, per_key, c->keys};
    int rc = s->per_second && per_key ? each_op(&lc, count_op, &cn) : -1;
    if (rc == 0)
        rc = check_all(&lc, c, s, per_key, history);
    free(per_key);
    return rc;
}

void kvt_logs_stats_free(struct kvt_logs_stats *s)
{
    free(s->per_second);
    memset(s, 0, sizeof *s);
}
