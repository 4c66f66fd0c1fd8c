/* kb_report.c: kvbench's results: the table for people, JSON for machines, CSV and a plot. */
#include "kvbench.h"
#include "kvstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double quantiles[] = {0.5, 0.9, 0.99, 0.999};
static const char *const quantile_names[] = {"p50", "p90", "p99", "p99.9"};
#define QUANTILE_COUNT (sizeof quantiles / sizeof quantiles[0])

void kb_total_hist(const struct kb_stats *s, struct kb_hist *into)
{
    kb_hist_reset(into);
    for (int op = 0; op < KB_OP_COUNT; op++)
        kb_hist_merge(into, &s->op[op].hist);
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static double per_s(const struct kb_bench *b, uint64_t n)
{
    return (double)n / ((double)b->stats.measured_ns / 1e9);
}

static void table_row(const struct kb_bench *b, const char *name, const struct kb_hist *h,
                      uint64_t ok)
{
    printf("%-6s %9llu %10.0f %9.3f", name, (unsigned long long)h->total, per_s(b, h->total),
           ms((uint64_t)kb_hist_mean(h)));
    for (size_t i = 0; i < QUANTILE_COUNT; i++)
        printf(" %9.3f", ms(kb_hist_quantile(h, quantiles[i])));
    printf(" %9.3f %8llu\n", ms(h->max_ns), (unsigned long long)(h->total - ok));
}

static void table_codes(const struct kb_bench *b)
{
    for (int op = 0; op < KB_OP_COUNT; op++) {
        const struct kb_op_stats *st = &b->stats.op[op];
        bool any = false;
        for (int c = 1; c < KB_CODE_COUNT; c++) {
            if (st->codes[c] == 0)
                continue;
            printf("%s  %s %s %llu (%.2f%%)", any ? "," : "errors:", kb_op_name((enum kb_op)op),
                   kb_code_name(c), (unsigned long long)st->codes[c],
                   100.0 * (double)st->codes[c] / (double)st->hist.total);
            any = true;
        }
        if (any)
            putchar('\n');
        if (st->not_found)
            printf("%s: %llu not found\n", kb_op_name((enum kb_op)op),
                   (unsigned long long)st->not_found);
    }
}

void kb_report_table(const struct kb_bench *b)
{
    const struct kb_options *o = &b->opt;
    struct kb_hist total;
    kb_total_hist(&b->stats, &total);
    printf("%s: %s, %u conn x %u in flight, %s, %s, %llu keys %s, %u B keys, %u B values, "
           "%.2f s measured\n", o->label, o->endpoints[0], o->connections, o->depth,
           o->rate > 0 ? "open loop" : "closed loop", o->framed ? "framed" : "unframed",
           (unsigned long long)o->keys, o->zipf_theta > 0 ? "zipfian" : "uniform", o->key_size,
           o->value_size, (double)b->stats.measured_ns / 1e9);
    if (o->rate > 0)
        printf("target rate %.0f ops/s; latency from the intended start\n", o->rate);
    printf("%-6s %9s %10s %9s", "op", "count", "ops/s", "mean ms");
    for (size_t i = 0; i < QUANTILE_COUNT; i++)
        printf(" %9s", quantile_names[i]);
    printf(" %9s %8s\n", "max", "errors");
    uint64_t ok = 0;
    for (int op = 0; op < KB_OP_COUNT; op++) {
        const struct kb_op_stats *st = &b->stats.op[op];
        ok += st->ok;
        if (st->hist.total)
            table_row(b, kb_op_name((enum kb_op)op), &st->hist, st->ok);
    }
    table_row(b, "all", &total, ok);
    table_codes(b);
    double n = total.total ? (double)total.total : 1;
    printf("retries %llu, reconnects %llu, bad replies %llu; bytes per op: sent %.1f, "
           "received %.1f\n", (unsigned long long)b->stats.retries,
           (unsigned long long)b->stats.reconnects, (unsigned long long)b->stats.bad_replies,
           (double)b->stats.bytes_sent / n, (double)b->stats.bytes_received / n);
}
