/* dsim_script.c: what the named scenarios control beyond the seeded weather. */
#include "dsim.h"

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
