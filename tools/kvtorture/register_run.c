/* register_run.c: kvtorture's verdict on a register run (its streamed logs) or a saved
   history: every key checked, the final state, the counts, one verdict line (CLEAN only when
   every key was checked to a verdict), the history saved when asked or when not clean, and
   the summary. */
#include "kvtorture.h"
#include "check_logs.h"
#include "report.h"
#include "summary.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERDICT_LINE_MAX 384

static int exit_code(enum kvt_lin_verdict v)
{
    return v == KVT_LIN_VIOLATION ? KVT_EXIT_VIOLATION
         : v == KVT_LIN_UNKNOWN ? KVT_EXIT_UNKNOWN : KVT_EXIT_CLEAN;
}

/* "CLEAN (what): ...", "VIOLATION (what): ..." or "UNKNOWN (what): ..." into line: the
   word is rc's (the run's whole verdict, verdict.c), the rest the checks', then also. */
static void verdict_line(const struct kvt_check *c, int rc, const char *also, const char *what,
                         char *line, size_t size)
{
    enum kvt_lin_verdict v = kvt_check_verdict(c);
    char detail[160];
    if (v == KVT_LIN_OK)
        snprintf(detail, sizeof detail, "all %" PRIu32 " keys checked", c->keys);
    else if (v == KVT_LIN_VIOLATION)
        snprintf(detail, sizeof detail, "%zu keys not linearizable, %zu final-state issues, %zu"
                 " reads out of version order, %zu versions named twice", c->violations,
                 c->final_issues, c->version_violations, c->versions.shared);
    else
        snprintf(detail, sizeof detail, "%zu of %" PRIu32 " keys not checked to a verdict (%s);"
                 " no violation in the rest, but not clean", c->undecided, c->keys,
                 c->unknown_why);
    snprintf(line, size, "kvtorture: %s (%s): %s%s", kvt_verdict_name(rc), what, detail, also);
}

/* The ops of the keys not found clean, for a later --check (with --history, every op was
   written there already). */
static void save_failed(const struct kvt_options *o, const struct kvt_check *c)
{
    if (o->history || c->failed.count == 0)
        return;
    char path[KVT_PATH_MAX], header[160];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/kvtorture-%" PRIu64 ".history", tmp ? tmp : "/tmp",
             o->seed);
    snprintf(header, sizeof header, "kvtorture seed %" PRIu64 " workers %u keys %u: the keys"
                                    " not found clean", o->seed, o->workers, o->keys);
    if (kvt_history_write(path, &c->failed, header) == 0)
        printf("history: %zu ops of the keys not found clean written to %s\n", c->failed.count,
               path);
    else
        fprintf(stderr, "kvtorture: cannot write %s\n", path);
}

static FILE *open_history(const struct kvt_options *o)
{
    if (!o->history)
        return NULL;
    FILE *f = fopen(o->history, "w");
    char header[128];
    snprintf(header, sizeof header, "kvtorture seed %" PRIu64 " workers %u keys %u", o->seed,
             o->workers, o->keys);
    if (f && kvt_history_write_header(f, header) == 0)
        return f;
    perror(o->history);
    if (f)
        fclose(f);
    return NULL;
}

/* The most memory this process held (VmHWM), in KiB; 0 when unknown. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* Checks the logs; the summary when asked. The exit code. */
static int judge(const struct kvt_run *run, struct kvt_check *c, FILE *history)
{
    const struct kvt_options *o = run->o;
    struct kvt_logs l = {.dir = run->log_dir, .workers = o->workers + 1 /* the nemesis's */,
                         .start_ns = run->start_ns,
                         .seconds = (size_t)ceil(o->duration_s)};
    struct kvt_logs_stats s;
    int64_t start = kvt_now_ns();
    if (kvt_logs_check(&l, c, &s, history) != 0) {
        kvt_logs_stats_free(&s);
        fprintf(stderr, "kvtorture: the check could not finish (memory or disk)\n");
        return KVT_EXIT_SETUP;
    }
    double wall = (double)(kvt_now_ns() - start) / 1e9;
    kvt_report_count_table(stdout, &s.counts);
    kvt_check_print(c, stdout);
    long peak = peak_rss_kib();
    printf("check: %.1f s in all (%zu shard(s)); kvtorture's peak memory %.0f MiB\n", wall,
           s.shards, (double)peak / 1024);
    save_failed(o, c);
    char seed[32], line[VERDICT_LINE_MAX], also[96];
    snprintf(seed, sizeof seed, "seed %" PRIu64, o->seed);
    int rc = kvt_verdict_combine(run, exit_code(kvt_check_verdict(c)));
    kvt_verdict_also(run, rc, also, sizeof also);
    verdict_line(c, rc, also, seed, line, sizeof line);
    printf("%s\n", line);
    struct kvt_summary sum = {.run = run, .check = c, .stats = &s, .seconds = l.seconds,
                              .verdict = line, .check_wall_s = wall, .peak_rss_kib = peak};
    if (o->summary && kvt_summary_write(o->summary, &sum) != 0 && rc == KVT_EXIT_CLEAN)
        rc = KVT_EXIT_SETUP;
    kvt_logs_stats_free(&s);
    return rc;
}

int kvt_register_verdict(const struct kvt_run *run, const struct kvt_final *f)
{
    const struct kvt_options *o = run->o;
    struct kvt_check c;
    FILE *history = open_history(o);
    int rc = KVT_EXIT_SETUP;
    if (o->history && !history)
        fprintf(stderr, "kvtorture: cannot write the history to %s\n", o->history);
    else if (kvt_check_init(&c, stdout, o->keys, f, run->start_ns) != 0)
        fprintf(stderr, "kvtorture: out of memory\n");
    else {
        c.search_steps_max = o->search_steps_max;
        rc = judge(run, &c, history);
        kvt_check_free(&c);
    }
    if (history && fclose(history) == 0)
        printf("history: written to %s\n", o->history);
    return rc;
}

int kvt_register_check_saved(const struct kvt_options *o)
{
    const char *path = o->check;
    struct kvt_history h;
    kvt_history_init(&h);
    long bad = kvt_history_read(path, &h);
    if (bad != 0) {
        fprintf(stderr, "kvtorture: %s: %s %ld\n", path, bad < 0 ? "cannot read" : "bad line",
                bad);
        kvt_history_free(&h);
        return KVT_EXIT_USAGE;
    }
    uint32_t keys = 0;
    int64_t t0 = h.count ? h.ops[0].invoke_ns : 0;
    for (size_t i = 0; i < h.count; i++) {
        keys = h.ops[i].key >= keys ? h.ops[i].key + 1 : keys;
        t0 = h.ops[i].invoke_ns < t0 ? h.ops[i].invoke_ns : t0;
    }
    struct kvt_check c;
    int rc = KVT_EXIT_SETUP;
    int ready = kvt_check_init(&c, stdout, keys, NULL, t0);
    c.search_steps_max = o->search_steps_max;
    if (ready == 0 && kvt_check_history(&c, &h) == 0) {
        kvt_report_counts(stdout, &h);
        kvt_check_print(&c, stdout);
        char line[VERDICT_LINE_MAX];
        rc = exit_code(kvt_check_verdict(&c));
        verdict_line(&c, rc, "", path, line, sizeof line);
        printf("%s\n", line);
    } else {
        fprintf(stderr, "kvtorture: out of memory checking %s\n", path);
    }
    kvt_check_free(&c);
    kvt_history_free(&h);
    return rc;
}
