/* report.c: printing counts, per-key verdicts with their failing window, final-state issues. */
#include "report.h"

#include <inttypes.h>

void kvt_report_counts(FILE *f, const struct kvt_history *h)
{
    struct kvt_counts c;
    kvt_history_count(h, &c);
    fprintf(f, "%-6s %8s %8s %8s\n", "op", "ok", "fail", "info");
    for (int t = 0; t < KVT_OP_TYPES; t++)
        fprintf(f, "%-6s %8zu %8zu %8zu\n", kvt_op_type_name((enum kvt_op_type)t),
                c.n[t][KVT_OK], c.n[t][KVT_FAIL], c.n[t][KVT_INFO]);
}

static int64_t first_invoke(const struct kvt_history *h)
{
    return h->count ? h->ops[0].invoke_ns : 0;
}

void kvt_report_op(FILE *f, const struct kvt_op *op, int64_t t0_ns, const char *mark)
{
    fprintf(f, "  %-2s p%-3" PRIu32 " node %-2" PRId32 " [%10.3f, %10.3f] ms  %-5s %-4s key %" PRIu32,
            mark, op->process, op->node, (double)(op->invoke_ns - t0_ns) / 1e6,
            (double)(op->complete_ns - t0_ns) / 1e6, kvt_op_type_name(op->type),
            kvt_outcome_name(op->outcome), op->key);
    if (op->type == KVT_CAS)
        fprintf(f, "  %" PRId64 " -> %" PRId64 "\n", op->expected, op->value);
    else if (op->type == KVT_READ && op->value == KVT_NIL)
        fprintf(f, "  nil\n");
    else
        fprintf(f, "  %" PRId64 "\n", op->value);
}

void kvt_report_lin(FILE *f, const struct kvt_history *h, const struct kvt_lin_result *r)
{
    static const char *const names[] = {"linearizable", "NOT LINEARIZABLE", "unknown"};
    fprintf(f, "key %" PRIu32 ": %s (%zu ops, %zu unobserved info writes set aside, %" PRIu64
               " steps)%s%s\n",
            r->key, names[r->verdict], r->ops, r->pruned, r->steps, r->why ? ": " : "",
            r->why ? r->why : "");
    if (r->verdict != KVT_LIN_VIOLATION)
        return;
    fprintf(f, "  after %zu ops linearized the register holds %" PRId64
               " and no open op can go next\n  before the completion of the op marked '!'"
               " ('=' linearized, '?' open):\n", r->linearized, r->state);
    for (size_t i = 0; i < r->window_count; i++) {
        size_t at = r->window[i];
        const char *mark = at == r->stuck ? "!" : r->window_linearized[i] ? "=" : "?";
        kvt_report_op(f, &h->ops[at], first_invoke(h), mark);
    }
}

void kvt_report_final(FILE *f, const struct kvt_history *h, const struct kvt_final_issue *is,
                      size_t count)
{
    for (size_t i = 0; i < count; i++) {
        fprintf(f, "final: key %" PRIu32 ": %s", is[i].key, kvt_final_kind_name(is[i].kind));
        if (is[i].kind == KVT_FINAL_DIVERGED)
            fprintf(f, " (node %" PRIu32 " has %" PRId64 ")", is[i].node, is[i].value);
        else if (is[i].kind != KVT_FINAL_UNREAD)
            fprintf(f, " (final value %" PRId64 ")", is[i].value);
        fputc('\n', f);
        if (is[i].kind == KVT_FINAL_LOST)
            kvt_report_op(f, &h->ops[is[i].op], first_invoke(h), "!");
    }
}
