/* report.c: printing counts, per-key verdicts with their failing window, final-state issues. */
#include "report.h"

#include <inttypes.h>

void kvt_report_count_table(FILE *f, const struct kvt_counts *c)
{
    fprintf(f, "%-6s %8s %8s %8s\n", "op", "ok", "fail", "info");
    for (int t = 0; t < KVT_OP_TYPES; t++)
        fprintf(f, "%-6s %8zu %8zu %8zu\n", kvt_op_type_name((enum kvt_op_type)t),
                c->n[t][KVT_OK], c->n[t][KVT_FAIL], c->n[t][KVT_INFO]);
}

void kvt_report_counts(FILE *f, const struct kvt_history *h)
{
    struct kvt_counts c;
    kvt_history_count(h, &c);
    kvt_report_count_table(f, &c);
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

static void window_blocks(FILE *f, const struct kvt_history *h, const struct kvt_lin_result *r,
                          int64_t t0_ns)
{
    fprintf(f, "  %s:\n", r->violation);
    for (size_t i = 0; i < r->window_count; i++) {
        if (r->window[i] == KVT_LIN_INITIAL)
            fprintf(f, "  %-2s the initial state: nil, before every op\n", r->role[i]);
        else
            kvt_report_op(f, &h->ops[r->window[i]], t0_ns, r->role[i]);
    }
}

void kvt_report_lin_window(FILE *f, const struct kvt_history *h, const struct kvt_lin_result *r,
                           int64_t t0_ns)
{
    if (r->verdict != KVT_LIN_VIOLATION)
        return;
    if (r->method == KVT_LIN_BY_BLOCKS) {
        window_blocks(f, h, r, t0_ns);
        return;
    }
    fprintf(f, "  after %zu ops linearized the register holds %" PRId64
               " and no open op can go next\n  before the completion of the op marked '!'"
               " ('=' linearized, '?' open):\n", r->linearized, r->state);
    for (size_t i = 0; i < r->window_count; i++) {
        size_t at = r->window[i];
        const char *mark = at == r->stuck ? "!" : r->window_linearized[i] ? "=" : "?";
        kvt_report_op(f, &h->ops[at], t0_ns, mark);
    }
}

void kvt_report_lin(FILE *f, const struct kvt_history *h, const struct kvt_lin_result *r,
                    int64_t t0_ns)
{
    static const char *const names[] = {"linearizable", "NOT LINEARIZABLE", "unknown"};
    fprintf(f, "key %" PRIu32 ": %s (%zu ops, %zu unobserved info writes set aside, ", r->key,
            names[r->verdict], r->ops, r->pruned);
    if (r->method == KVT_LIN_BY_BLOCKS)
        fprintf(f, "by blocks)\n");
    else
        fprintf(f, "search, %" PRIu64 " steps)%s%s\n", r->steps, r->why ? ": " : "",
                r->why ? r->why : "");
    kvt_report_lin_window(f, h, r, t0_ns);
}

void kvt_report_final(FILE *f, const struct kvt_history *h, const struct kvt_final_issue *is,
                      size_t count, int64_t t0_ns)
{
    for (size_t i = 0; i < count; i++) {
        fprintf(f, "final: key %" PRIu32 ": %s", is[i].key, kvt_final_kind_name(is[i].kind));
        if (is[i].kind == KVT_FINAL_DIVERGED)
            fprintf(f, " (node %" PRIu32 " has %" PRId64 ")", is[i].node, is[i].value);
        else if (is[i].kind != KVT_FINAL_UNREAD)
            fprintf(f, " (final value %" PRId64 ")", is[i].value);
        fputc('\n', f);
        if (is[i].kind == KVT_FINAL_LOST)
            kvt_report_op(f, &h->ops[is[i].op], t0_ns, "!");
    }
}
