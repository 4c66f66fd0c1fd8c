/* dsim_script.c: what the named scenarios control beyond the seeded weather. */
#include "dsim.h"

#include <stdlib.h>

struct dsim_op *dsim_forward(struct dsim_world *w, uint32_t via, uint32_t leader, uint32_t key)
{
    if (!w->nodes[via].up || !w->nodes[leader].up)
        return NULL;
    uint32_t gen = dsim_conn_take(w, via, w->nodes[via].life, leader);
    struct dsim_op *op = dsim_propose(w, leader, key);
    w->stats.forwards++;
    op->forwarded = true;
    op->via = via;
    op->conn_gen = gen;
    return op;
}

void dsim_forward_answer(struct dsim_op *op)
{
    if (!op->forwarded || op->forward_answered)
        return;
    op->forward_answered = true;
    dsim_conn_answered(op->w, op->via, op->node, op->conn_gen);
}

/* ------------------------------------------------------------------ rules */

uint32_t dsim_rule_add(struct dsim_world *w, uint32_t from, uint32_t to, int method, bool reply,
                       enum dsim_act act, uint32_t skip, uint32_t count)
{
    for (uint32_t i = 0; i < DSIM_RULES_MAX; i++) {
        struct dsim_rule *r = &w->rules[i];
        if (r->on || r->caught > 0)
            continue; /* ended rules keep their count (and held messages) for the test */
        *r = (struct dsim_rule){.on = true, .from = from, .to = to, .method = method,
                                .reply = reply, .act = act, .skip = skip, .left = count};
        return i;
    }
    abort(); /* a scenario with more rules than DSIM_RULES_MAX */
}

void dsim_rule_end(struct dsim_world *w, uint32_t rule)
{
    w->rules[rule].on = false;
}

bool dsim_rule_catch(struct dsim_world *w, enum dsim_ev_kind kind, uint32_t from, uint32_t to,
                     int method, void *msg)
{
    for (uint32_t i = 0; i < DSIM_RULES_MAX; i++) {
        struct dsim_rule *r = &w->rules[i];
        if (!r->on || r->from != from || r->to != to || r->reply != (kind == DSIM_EV_REPLY) ||
            (r->method != DSIM_ANY_METHOD && r->method != method))
            continue;
        if (r->skip > 0) {
            r->skip--;
            return false;
        }
        r->caught++;
        if (r->left != UINT32_MAX && --r->left == 0)
            r->on = false;
        if (r->act == DSIM_DROP) {
            dsim_net_drop(msg);
            return true;
        }
        if (w->held_count == w->held_cap) {
            w->held_cap = w->held_cap ? w->held_cap * 2 : 16;
            w->held = realloc(w->held, w->held_cap * sizeof *w->held);
            if (!w->held)
                abort();
        }
        w->held[w->held_count++] = (struct dsim_held){i, kind, to, msg};
        return true;
    }
    return false;
}

size_t dsim_rule_release(struct dsim_world *w, uint32_t rule, bool deliver)
{
    size_t released = 0, kept = 0;
    for (size_t i = 0; i < w->held_count; i++) {
        struct dsim_held *h = &w->held[i];
        if (h->rule != rule) {
            w->held[kept++] = *h;
            continue;
        }
        if (deliver)
            dsim_world_schedule(w, w->now + 1, h->kind, h->to, 0, h->msg);
        else
            dsim_net_drop(h->msg);
        released++;
    }
    w->held_count = kept;
    return released;
}

void dsim_rules_free(struct dsim_world *w)
{
    for (size_t i = 0; i < w->held_count; i++)
        dsim_net_drop(w->held[i].msg);
    free(w->held);
    w->held = NULL;
    w->held_count = w->held_cap = 0;
}

/* ----------------------------------------------------- syncs and snapshots */

void dsim_hold_syncs(struct dsim_world *w, uint32_t i, bool hold)
{
    struct dsim_node *n = &w->nodes[i];
    n->hold_sync = hold;
    if (!hold && n->sync_parked) {
        n->sync_parked = false;
        dsim_world_schedule(w, w->now, DSIM_EV_SYNC_DONE, i, n->parked_sync_gen, NULL);
    }
}

void dsim_hold_snapshots(struct dsim_world *w, uint32_t i, bool hold)
{
    struct dsim_node *n = &w->nodes[i];
    n->hold_snap = hold;
    if (!hold && n->snap_parked) {
        n->snap_parked = false;
        dsim_world_schedule(w, w->now, DSIM_EV_SNAP_DONE, i, n->parked_snap_index, NULL);
    }
}
