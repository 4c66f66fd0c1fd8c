/* append_report.c: how the list-append checker names an anomaly and the txns in it. */
#include "append_internal.h"

#include <inttypes.h>

/* The last few elements of a list, "[..., 7, 9]". */
static void print_list(FILE *f, const int64_t *list, uint32_t len)
{
    uint32_t from = len > KVT_APPEND_SHOWN_MAX ? len - KVT_APPEND_SHOWN_MAX : 0;
    fprintf(f, "[%s", from ? "..." : "");
    for (uint32_t i = from; i < len; i++)
        fprintf(f, "%s%" PRId64, i > from || from ? "," : "", list[i]);
    fputc(']', f);
}

void chk_print_txn(const struct chk *c, uint32_t t)
{
    const struct kvt_txn *x = &c->h->txns[t];
    int64_t t0 = c->h->count ? c->h->txns[0].invoke_ns : 0;
    fprintf(c->out, "    T%" PRIu32 " p%" PRIu32 " node %" PRId32 " [%.3f, %.3f] ms %s%s:", t,
            x->process, x->node, (double)(x->invoke_ns - t0) / 1e6,
            (double)(x->complete_ns - t0) / 1e6, kvt_outcome_name(x->outcome),
            x->outcome == KVT_INFO && c->committed && c->committed[t] ? " (seen: committed)" : "");
    for (uint32_t j = 0; j < x->mop_count; j++) {
        const struct kvt_mop *m = &x->mops[j];
        if (m->kind == KVT_MOP_APPEND) {
            fprintf(c->out, " append %" PRIu32 " %" PRId64 ";", m->key, m->element);
            continue;
        }
        fprintf(c->out, " read %" PRIu32 " ", m->key);
        print_list(c->out, m->list, m->len);
        fputc(';', c->out);
    }
    fputc('\n', c->out);
}

void chk_report(struct chk *c, enum kvt_anomaly a, const char *what, uint32_t t1, uint32_t t2)
{
    if (++c->r->count[a] > KVT_APPEND_EXAMPLES_MAX || !c->out)
        return;
    fprintf(c->out, "anomaly %s: %s\n", kvt_anomaly_name(a), what);
    chk_print_txn(c, t1);
    if (t2 != KVT_NONE_TXN && t2 != t1)
        chk_print_txn(c, t2);
}
