/* kb_export.c: kvbench's machine outputs: JSON summary, latency CSV, timeline CSV, PNG. */
#include "kvbench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void json_latency(const struct kb_hist *h)
{
    printf("{\"count\": %llu, \"mean_us\": %.1f, \"p50_us\": %.1f, \"p90_us\": %.1f, "
           "\"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f}",
           (unsigned long long)h->total, kb_hist_mean(h) / 1e3,
           (double)kb_hist_quantile(h, 0.5) / 1e3, (double)kb_hist_quantile(h, 0.9) / 1e3,
           (double)kb_hist_quantile(h, 0.99) / 1e3, (double)kb_hist_quantile(h, 0.999) / 1e3,
           (double)h->max_ns / 1e3);
}

static void json_op(const struct kb_bench *b, int op)
{
    const struct kb_op_stats *st = &b->stats.op[op];
    double secs = (double)b->stats.measured_ns / 1e9;
    printf("\"%s\": {\"ops_per_s\": %.1f, \"ok\": %llu, \"not_found\": %llu, \"latency\": ",
           kb_op_name((enum kb_op)op), (double)st->hist.total / secs,
           (unsigned long long)st->ok, (unsigned long long)st->not_found);
    json_latency(&st->hist);
    printf(", \"errors\": {");
    const char *sep = "";
    for (int c = 1; c < KB_CODE_COUNT; c++) {
        if (st->codes[c]) {
            printf("%s\"%s\": %llu", sep, kb_code_name(c), (unsigned long long)st->codes[c]);
            sep = ", ";
        }
    }
    printf("}}");
}

void kb_report_json(const struct kb_bench *b)
{
    const struct kb_options *o = &b->opt;
    struct kb_hist total;
    kb_total_hist(&b->stats, &total);
    double secs = (double)b->stats.measured_ns / 1e9, n = total.total ? (double)total.total : 1;
    printf("{\"label\": \"%s\", \"endpoint\": \"%s\", \"connections\": %u, \"depth\": %u, "
           "\"rate\": %.1f, \"framed\": %s, \"keys\": %llu, \"zipf_theta\": %.3f, "
           "\"key_size\": %u, \"value_size\": %u, \"seed\": %llu, \"seconds\": %.3f, "
           "\"ops_per_s\": %.1f, \"latency\": ", o->label, o->endpoints[0], o->connections,
           o->depth, o->rate, o->framed ? "true" : "false", (unsigned long long)o->keys,
           o->zipf_theta, o->key_size, o->value_size, (unsigned long long)o->seed, secs,
           (double)total.total / secs);
    json_latency(&total);
    printf(", \"retries\": %llu, \"reconnects\": %llu, \"bad_replies\": %llu, "
           "\"bytes_sent_per_op\": %.1f, \"bytes_received_per_op\": %.1f, \"ops\": {",
           (unsigned long long)b->stats.retries, (unsigned long long)b->stats.reconnects,
           (unsigned long long)b->stats.bad_replies, (double)b->stats.bytes_sent / n,
           (double)b->stats.bytes_received / n);
    const char *sep = "";
    for (int op = 0; op < KB_OP_COUNT; op++) {
        if (b->stats.op[op].hist.total == 0)
            continue;
        fputs(sep, stdout);
        json_op(b, op);
        sep = ", ";
    }
    printf("}}\n");
}

int kb_report_csv(const struct kb_bench *b, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    struct kb_hist h;
    kb_total_hist(&b->stats, &h);
    fprintf(f, "latency_us,count,cumulative\n");
    uint64_t seen = 0;
    for (uint32_t i = 0; i < KB_HIST_BUCKETS; i++) {
        if (h.counts[i] == 0)
            continue;
        seen += h.counts[i];
        double mid = (double)kb_hist_lower(i) + (double)kb_hist_width(i) / 2;
        fprintf(f, "%.3f,%llu,%.6f\n", mid / 1e3, (unsigned long long)h.counts[i],
                (double)seen / (double)h.total);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int kb_report_timeline(const struct kb_bench *b, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    uint64_t len = (b->end_ns - b->t0_ns) / ((uint64_t)b->opt.timeline_ms * 1000000ull) + 1;
    if (len > b->timeline_len)
        len = b->timeline_len;
    fprintf(f, "t_ms,ok,errors\n");
    for (uint64_t i = 0; i < len; i++)
        fprintf(f, "%llu,%u,%u\n", (unsigned long long)(i * b->opt.timeline_ms),
                b->timeline_ok[i], b->timeline_err[i]);
    return fclose(f) == 0 ? 0 : -1;
}

/* Latency by percentile, HdrHistogram style: x is 1 / (1 - quantile) on a log scale. */
int kb_report_plot(const struct kb_bench *b, const char *png_path)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "kvbench: gnuplot not installed (tools/deps --bench); no %s\n", png_path);
        return 0;
    }
    char csv[] = "/tmp/kvbench-plot-XXXXXX";
    int fd = mkstemp(csv);
    if (fd < 0)
        return -1;
    close(fd);
    if (kb_report_csv(b, csv) != 0)
        return -1;
    FILE *g = popen("gnuplot", "w");
    if (!g)
        return -1;
    fprintf(g, "set terminal pngcairo size 900,500 noenhanced\nset output '%s'\n"
               "set datafile separator ','\nset logscale x\nset logscale y\n"
               "set xlabel 'percentile'\nset ylabel 'latency (us)'\nset grid\nset key left top\n"
               /* tic labels are formats to gnuplot: %%%% prints one percent sign */
               "set xtics ('50%%%%' 2, '90%%%%' 10, '99%%%%' 100, '99.9%%%%' 1000, "
               "'99.99%%%%' 10000, '99.999%%%%' 100000)\nset title '%s'\n"
               "plot '%s' every ::1 using (1/(1-($3<1?$3:0.999999))):1 with steps title "
               "'latency'\n", png_path, b->opt.label, csv);
    int rc = pclose(g);
    unlink(csv);
    return rc == 0 ? 0 : -1;
}
