/* final_reads.c: once every node has applied the same index, a serializable read of every
   key on every node. A node that has not caught up within --catch-up s of the last heal is a
   liveness failure, told apart from a safety one: its reads are left out of the agreement
   check rather than reported as a disagreement. */
#include "kvtorture.h"
#include "final.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONVERGE_POLL_NS (50 * 1000 * 1000)
/* Equal applied indexes this many polls in a row count as settled. */
#define CONVERGE_POLLS 3

/* Polls every node's applied index until all agree; true when they did in time. applied[i]
   is node i's last answer (-1: none). */
static bool converge(struct kvt_conn *conns, unsigned count, int64_t bound_ns, int64_t *applied)
{
    int settled = 0;
    int64_t last = -1;
    for (int64_t deadline = kvt_now_ns() + bound_ns; kvt_now_ns() < deadline;) {
        bool equal = true;
        for (unsigned i = 0; i < count; i++) {
            applied[i] = kvt_applied_index(&conns[i]);
            equal = equal && applied[i] >= 0 && applied[i] == applied[0];
        }
        settled = equal && applied[0] == last ? settled + 1 : 0;
        last = equal ? applied[0] : -1;
        if (settled >= CONVERGE_POLLS) {
            printf("final: every node applied index %" PRId64 "\n", applied[0]);
            return true;
        }
        struct timespec ts = {0, CONVERGE_POLL_NS};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* After converge() gave up: each node behind the most advanced one (or silent) is a liveness
   failure, and marked so that its final reads are left out of the agreement check. */
static void report_behind(const int64_t *applied, unsigned count, double bound_s, bool *behind)
{
    int64_t max = -1;
    for (unsigned i = 0; i < count; i++)
        max = applied[i] > max ? applied[i] : max;
    bool any = false;
    for (unsigned i = 0; i < count; i++) {
        behind[i] = applied[i] < max || applied[i] < 0;
        any = any || behind[i];
        if (applied[i] < 0)
            printf("liveness: node %u does not answer for %.0f s after the last heal\n", i,
                   bound_s);
        else if (behind[i])
            printf("liveness: node %u behind by %" PRId64 " entries for %.0f s after the last "
                   "heal (applied %" PRId64 ", the most advanced node %" PRId64 ")\n",
                   i, max - applied[i], bound_s, applied[i], max);
    }
    if (!any)
        printf("liveness: the applied index (%" PRId64 ") did not stay put for %.0f s after "
               "the last heal\n", max, bound_s);
}

int kvt_catch_up(const struct kvt_run *run, bool *behind)
{
    const struct kvt_cluster *c = run->cluster;
    struct kvt_conn conns[KVT_NODES_MAX];
    for (unsigned i = 0; i < c->count; i++)
        kvt_conn_init(&conns[i], c, (int)i, run->o->timeout_ms);
    int64_t applied[KVT_NODES_MAX];
    double bound_s = run->o->catch_up_s;
    bool settled = converge(conns, c->count, (int64_t)(bound_s * 1e9), applied);
    memset(behind, 0, c->count * sizeof *behind);
    if (!settled)
        report_behind(applied, c->count, bound_s, behind);
    for (unsigned i = 0; i < c->count; i++)
        kvt_conn_free(&conns[i]);
    return settled ? 0 : 1;
}

int kvt_final_reads(struct kvt_run *run, struct kvt_final *f)
{
    const struct kvt_cluster *c = run->cluster;
    f->nodes = c->count;
    f->keys = run->o->keys;
    f->values = calloc((size_t)f->nodes * f->keys, sizeof *f->values);
    f->read_ok = calloc((size_t)f->nodes * f->keys, sizeof *f->read_ok);
    if (!f->values || !f->read_ok)
        return -1;
    bool behind[KVT_NODES_MAX];
    int rc = kvt_catch_up(run, behind);
    for (unsigned n = 0; n < c->count; n++) {
        struct kvt_conn k;
        kvt_conn_init(&k, c, (int)n, run->o->timeout_ms);
        for (uint32_t key = 0; key < f->keys && !behind[n]; key++) {
            size_t at = (size_t)n * f->keys + key;
            f->read_ok[at] = kvt_read_local(&k, key, &f->values[at]) == 0;
        }
        kvt_conn_free(&k);
    }
    return rc;
}

void kvt_final_free(struct kvt_final *f)
{
    free(f->values);
    free(f->read_ok);
}
