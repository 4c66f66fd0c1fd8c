/* server_vwait.c: a read at a version this node has not applied yet waits for the apply (as a
   FoundationDB storage server does), up to consensus.request_timeout_ms, and only then fails
   FUTURE_VERSION. A client that got a version from one node (a commit's version, another
   node's read version) may read at it on any node: a follower a few entries behind catches
   up within milliseconds. */
#include "server_vwait.h"

#include "server_request.h"

#include <assert.h>
#include <event2/event.h>
#include <stdlib.h>

struct server_vwait {
    struct server_vwait *next;   /* in version order (then arrival) */
    uint64_t version;
    int64_t deadline_ms;
    struct server_request *req;
    server_vwait_fn next_fn;
};

struct server_vwaits {
    struct server_vwait *head;
    uint32_t count;
    struct net_turn_part wake;   /* the head's version was applied: serve what may be */
    struct event *deadline_ev;   /* the earliest deadline of a waiting read */
};

static uint64_t applied(const struct server_node *n)
{
    return kv_store_applied_version(server_store(n));
}

static void finish(struct server_vwaits *w, int code)
{
    struct server_vwait *v = w->head;
    w->head = v->next;
    w->count--;
    v->next_fn(v->req, code);
    free(v);
}

static void wake_step(void *arg)
{
    struct server_node *n = arg;
    while (n->vwaits->head && n->vwaits->head->version <= applied(n))
        finish(n->vwaits, 0);
}

static void arm_deadline(struct server_vwaits *w, int64_t deadline_ms)
{
    int64_t ms = deadline_ms - server_now_ms();
    ms = ms < 1 ? 1 : ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(w->deadline_ev, &tv);
}

/* Every read past its deadline fails; the timer is set again for the earliest left. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server_node *n = arg;
    struct server_vwaits *w = n->vwaits;
    (void)fd;
    (void)what;
    int64_t now = server_now_ms(), earliest = INT64_MAX;
    struct server_vwait **p = &w->head;
    while (*p) {
        struct server_vwait *v = *p;
        if (v->deadline_ms > now) {
            earliest = v->deadline_ms < earliest ? v->deadline_ms : earliest;
            p = &v->next;
            continue;
        }
        *p = v->next;
        w->count--;
        v->next_fn(v->req, ErrorCode_FUTURE_VERSION);
        free(v);
    }
    if (w->head)
        arm_deadline(w, earliest);
}

int server_vwait_open(struct server_node *n)
{
    n->vwaits = calloc(1, sizeof *n->vwaits);
    if (!n->vwaits)
        return -1;
    n->vwaits->deadline_ev = evtimer_new(n->base, deadline_cb, n);
    int rc = net_turn_join(&n->vwaits->wake, n->base, NET_TURN_REPLY_VWAITS, wake_step, n);
    return rc == 0 && n->vwaits->deadline_ev ? 0 : -1;
}

void server_vwait_stop(struct server_node *n)
{
    while (n->vwaits && n->vwaits->head)
        finish(n->vwaits, ErrorCode_SHUTTING_DOWN);
}

void server_vwait_close(struct server_node *n)
{
    struct server_vwaits *w = n->vwaits;
    if (!w)
        return;
    server_vwait_stop(n);
    net_turn_leave(&w->wake);
    if (w->deadline_ev)
        event_free(w->deadline_ev);
    free(w);
    n->vwaits = NULL;
}

void server_vwait(struct server_request *req, uint64_t version, server_vwait_fn next)
{
    struct server_node *n = req->node;
    struct server_vwaits *w = n->vwaits;
    if (version <= applied(n)) {
        next(req, 0);
        return;
    }
    struct server_vwait *v = NULL;
    if (n->stopping || w->count >= SERVER_VWAITS_MAX || !(v = malloc(sizeof *v))) {
        next(req, n->stopping ? ErrorCode_SHUTTING_DOWN : ErrorCode_FUTURE_VERSION);
        return;
    }
    *v = (struct server_vwait){.version = version, .req = req, .next_fn = next,
                               .deadline_ms = server_now_ms() + n->cfg->request_timeout_ms};
    struct server_vwait **p = &w->head;
    while (*p && (*p)->version <= version)
        p = &(*p)->next;
    v->next = *p;
    *p = v;
    w->count++;
    if (!evtimer_pending(w->deadline_ev, NULL))
        arm_deadline(w, v->deadline_ms);   /* later reads have later deadlines */
}

void server_vwait_applied(struct server_node *n)
{
    struct server_vwaits *w = n->vwaits;
    if (w && w->head && w->head->version <= applied(n))
        net_turn_want(&w->wake);
}
