/* rep_load.c: the background writer of the process tests. */
#include "rep_load.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One write through c; 1 acknowledged, 0 refused or unknown, -1 the connection failed. */
static int write_one(struct rep_load *w, struct net_client *c, int32_t seq, int i)
{
    SetRequest q;
    SetRequest_init(&q);
    char key[16];
    snprintf(key, sizeof key, "%c%06d", w->prefix, i);
    tp_bytes_set_str(&q.key, key);
    tp_bytes_set_str(&q.value, key);
    TransactionalKV_setKey_result res;
    int rc = test_call(c, TEST_METHOD(setKey), seq, &q, &res, NULL);
    SetRequest_free(&q);
    if (rc != 0) {
        w->unknown++;
        TransactionalKV_setKey_result_free(&res);
        return -1;
    }
    const SetResponse *s = &res.success;
    int out = 0;
    if (s->success) {
        memcpy(w->keys[atomic_load(&w->count)], key, sizeof key);
        atomic_fetch_add(&w->count, 1);
        double now = node_now();
        if (w->last_ack > 0 && now - w->last_ack > w->window)
            w->window = now - w->last_ack;
        w->last_ack = now;
        out = 1;
    } else if (!rep_refused(s->success, s->has_error_code, s->error_code)) {
        w->unknown++;
    }
    TransactionalKV_setKey_result_free(&res);
    return out;
}

static void *writer(void *arg)
{
    struct rep_load *w = arg;
    struct net_client c;
    bool up = false;
    int node = 0;
    int32_t seq = 0;
    for (int i = 0; !atomic_load(&w->stop) && atomic_load(&w->count) < w->keys_max; i++) {
        if (!up) {
            unsigned alive = atomic_load(&w->alive);
            if (!(alive & (1u << node))) {
                node = (node + 1) % REP_NODES_MAX;
                if (alive == 0)
                    usleep(2000);
                continue;
            }
            if (net_client_connect(&c, w->addr[node], true, 3000) != NET_OK) {
                net_client_close(&c);
                node = (node + 1) % REP_NODES_MAX;
                usleep(2000); /* the next node after a refused connect */
                continue;
            }
            up = true;
        }
        if (write_one(w, &c, ++seq, i) != 1 || !(atomic_load(&w->alive) & (1u << node))) {
            net_client_close(&c);
            up = false;
            node = (node + 1) % REP_NODES_MAX;
        }
    }
    if (up)
        net_client_close(&c);
    return NULL;
}

struct rep_load *rep_load_start(struct rep *r, char prefix, int keys_max)
{
    struct rep_load *w = calloc(1, sizeof *w);
    cr_assert(w);
    w->keys = calloc((size_t)keys_max, sizeof *w->keys);
    cr_assert(w->keys);
    w->prefix = prefix;
    w->keys_max = keys_max;
    for (int i = 0; i < REP_NODES; i++)
        snprintf(w->addr[i], sizeof w->addr[i], "%s", r->nodes[i].addr);
    atomic_store(&w->alive, (1u << REP_NODES) - 1);
    cr_assert_eq(pthread_create(&w->thread, NULL, writer, w), 0);
    return w;
}

void rep_load_allow(struct rep_load *w, int node, const char *addr, bool yes)
{
    cr_assert(node >= 0 && node < REP_NODES_MAX);
    if (yes) {
        snprintf(w->addr[node], sizeof w->addr[node], "%s", addr);
        atomic_fetch_or(&w->alive, 1u << node);
    } else {
        atomic_fetch_and(&w->alive, ~(1u << node));
    }
}

void rep_load_wait_more(struct rep_load *w, int n, const char *when)
{
    int from = atomic_load(&w->count);
    double deadline = node_now() + REP_WAIT_S;
    while (atomic_load(&w->count) < from + n) {
        cr_assert_lt(node_now(), deadline, "writes stopped %s (%d acknowledged)", when,
                     atomic_load(&w->count));
        usleep(10000);
    }
}

int rep_load_stop(struct rep_load *w, const char *name)
{
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
    int count = atomic_load(&w->count);
    printf("%s: %d writes acknowledged (%d unknown), the longest wait between two %.0f ms\n",
           name, count, w->unknown, w->window * 1000);
    return count;
}

void rep_load_check(struct rep *r, const struct rep_load *w)
{
    int count = atomic_load(&w->count);
    rep_wait_converged(r);
    for (int n = 0; n < REP_NODES_MAX; n++)
        for (int i = 0; r->nodes[n].pid > 0 && i < count; i++) {
            GetResponse g;
            cr_assert_eq(rep_get(r, n, w->keys[i], false, &g), 0);
            cr_assert(g.success && g.found, "acknowledged %s is missing on node %d", w->keys[i],
                      n);
            GetResponse_free(&g);
        }
}

void rep_load_free(struct rep_load *w)
{
    free(w->keys);
    free(w);
}
