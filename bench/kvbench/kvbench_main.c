/* kvbench_main.c: kvbench, the load generator: set up, run, report, clean up. */
#include "kvbench.h"
#include "kvstore.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const op_names[] = {
#define KB_OP_NAME_(name, text, what) text,
    KB_OPS(KB_OP_NAME_)
#undef KB_OP_NAME_
};

const char *kb_op_name(enum kb_op op)
{
    return op >= 0 && op < KB_OP_COUNT ? op_names[op] : "?";
}

const char *kb_code_name(int code)
{
    if (code == KB_CODE_PROTOCOL)
        return "PROTOCOL";
    if (code == KB_CODE_TRANSPORT)
        return "CONNECTION_LOST";
    const char *name = ErrorCode_name(code);
    return name ? name : "?";
}

static int setup(struct kb_bench *b)
{
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return -1;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    b->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    kb_rand_seed(&b->rand, b->opt.seed);
    for (int op = 0; op < KB_OP_COUNT; op++)
        b->mix_total += b->opt.mix[op];
    if (b->opt.zipf_theta > 0)
        kb_zipf_init(&b->zipf, b->opt.keys, b->opt.zipf_theta);
    b->values = malloc(b->opt.value_size + KB_VALUE_SLACK);
    b->conns = calloc(b->opt.connections, sizeof *b->conns);
    if (!b->base || !b->values || !b->conns)
        return -1;
    for (uint32_t i = 0; i < b->opt.value_size + KB_VALUE_SLACK; i++)
        b->values[i] = (uint8_t)('a' + kb_rand_below(&b->rand, 26));
    if (b->opt.timeline_path) {
        double secs = b->opt.warmup_s + (b->opt.ops ? 600 : b->opt.duration_s) + 10;
        uint64_t len = (uint64_t)(secs * 1000 / b->opt.timeline_ms) + 1;
        b->timeline_len = len < KB_TIMELINE_BUCKETS_MAX ? (uint32_t)len : KB_TIMELINE_BUCKETS_MAX;
        b->timeline_ok = calloc(b->timeline_len, sizeof *b->timeline_ok);
        b->timeline_err = calloc(b->timeline_len, sizeof *b->timeline_err);
        if (!b->timeline_ok || !b->timeline_err)
            return -1;
    }
    b->tty = isatty(STDERR_FILENO);
    char err[NET_TLS_ERR_MAX];
    if (b->opt.tls && !(b->tls = net_tls_client_ctx(b->opt.cacert, b->opt.cert, b->opt.key, err,
                                                    sizeof err))) {
        fprintf(stderr, "kvbench: TLS: %s\n", err);
        return -1;
    }
    for (uint32_t i = 0; i < b->opt.connections; i++)
        if (kb_conn_open(b, &b->conns[i], i) != 0)
            return -1;
    return b->opt.session ? kb_sessions_open(b) : 0;
}

static void teardown(struct kb_bench *b)
{
    for (uint32_t i = 0; b->conns && i < b->opt.connections; i++)
        kb_conn_close(&b->conns[i]);
    free(b->conns);
    if (b->tick)
        event_free(b->tick);
    if (b->pace)
        event_free(b->pace);
    if (b->base)
        event_base_free(b->base);
    net_tls_ctx_free(b->tls);
    free(b->free_slots);
    free(b->values);
    free(b->timeline_ok);
    free(b->timeline_err);
}

static int report(struct kb_bench *b)
{
    int rc = 0;
    if (b->opt.json)
        kb_report_json(b);
    else
        kb_report_table(b);
    if (b->opt.csv_path && kb_report_csv(b, b->opt.csv_path) != 0)
        rc = fprintf(stderr, "kvbench: cannot write %s\n", b->opt.csv_path) > 0;
    if (b->opt.timeline_path && kb_report_timeline(b, b->opt.timeline_path) != 0)
        rc = fprintf(stderr, "kvbench: cannot write %s\n", b->opt.timeline_path) > 0;
    if (b->opt.plot_path && kb_report_plot(b, b->opt.plot_path) != 0)
        rc = fprintf(stderr, "kvbench: cannot plot %s\n", b->opt.plot_path) > 0;
    uint64_t ok = 0;
    for (int op = 0; op < KB_OP_COUNT; op++)
        ok += b->stats.op[op].ok;
    if (ok == 0) {
        fprintf(stderr, "kvbench: no operation succeeded\n");
        rc = 1;
    }
    return rc;
}

static int probe(int argc, char **argv)
{
    bool json = argc > 1 && strcmp(argv[argc - 1], "--json") == 0;
    argc -= json;
    if (strcmp(argv[1], "probe-rtt") == 0)
        return kb_probe_rtt(argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 10000, json);
    if (argc < 3) {
        fprintf(stderr, "usage: kvbench probe-fsync DIR [N] [--json]\n");
        return 2;
    }
    return kb_probe_fsync(argv[2], argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 200, json);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strncmp(argv[1], "probe-", 6) == 0)
        return probe(argc, argv);
    if (argc == 2 && strcmp(argv[1], "--self-test") == 0)
        return kb_self_test();
    signal(SIGPIPE, SIG_IGN);
    struct kb_bench *b = calloc(1, sizeof *b);
    if (!b)
        return 1;
    int rc = kb_options_parse(&b->opt, argc, argv);
    if (rc == 1) {
        free(b);
        return 0; /* --help */
    }
    if (rc == 0 && setup(b) != 0) {
        fprintf(stderr, "kvbench: out of memory\n");
        rc = 1;
    }
    if (rc == 0 && kb_run(b) != 0)
        rc = 1;
    if (rc == 0)
        rc = report(b);
    teardown(b);
    free(b);
    return rc;
}
