/* summary.c: the one-page summary of a run, its availability data and its faults. */
#include "summary.h"
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BAR_WIDTH 30
/* A second is down when its ok ops are under this fraction of the median second's. */
#define DOWN_FRACTION 0.1
#define PATH_BYTES (KVT_PATH_MAX + 32)

/* One letter per fault kind, in enum kvt_fault's order. */
static const char fault_letter[] = "KPWNCLDFTSM";
_Static_assert(sizeof fault_letter - 1 == KVT_FAULTS, "a letter for every fault kind");
static const char *const shape_name[KVT_PARTITIONS] = {"isolated", "mute", "deaf"};

/* Seconds per chart row: the first of 1, 2, 5, 10, 15, 30, 60, 120, ... that fits. */
static size_t bin_width(size_t seconds)
{
    static const size_t steps[] = {1, 2, 5, 10, 15, 30, 60};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (seconds <= steps[i] * KVT_SUMMARY_ROWS_MAX)
            return steps[i];
    size_t w = 120;
    while (seconds > w * KVT_SUMMARY_ROWS_MAX)
        w *= 2;
    return w;
}

struct bin {
    size_t n[KVT_OUTCOMES], rw, all, ok;   /* reads and writes by outcome; all ops; ok ops */
    size_t down;                           /* seconds down */
    char faults[KVT_FAULTS + 1];   /* letters of the kinds that started in it */
};

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The median second's ok ops (0 when memory runs out: then no second counts as down). */
static size_t median_ok(const struct kvt_summary *s)
{
    size_t *ok = malloc((s->seconds ? s->seconds : 1) * sizeof *ok), m = 0;
    for (size_t t = 0; ok && t < s->seconds; t++)
        ok[t] = s->stats->per_second[t].ok;
    if (ok && s->seconds) {
        qsort(ok, s->seconds, sizeof *ok, cmp_size);
        m = ok[s->seconds / 2];
    }
    free(ok);
    return m;
}

static void fill_bin(const struct kvt_summary *s, size_t from, size_t width, size_t median,
                     struct bin *b)
{
    memset(b, 0, sizeof *b);
    for (size_t t = from; t < from + width && t < s->seconds; t++) {
        b->all += s->stats->per_second[t].ops;
        b->ok += s->stats->per_second[t].ok;
        b->down += (double)s->stats->per_second[t].ok < DOWN_FRACTION * (double)median;
        for (int o = 0; o < KVT_OUTCOMES; o++) {
            b->n[o] += s->stats->per_second[t].rw[o];
            b->rw += s->stats->per_second[t].rw[o];
        }
    }
    const struct kvt_run *run = s->run;
    for (size_t i = 0; i < run->fault_count; i++) {
        int64_t at = (run->faults[i].start_ns - run->start_ns) / 1000000000;
        char letter = fault_letter[run->faults[i].kind];
        if (at >= (int64_t)from && at < (int64_t)(from + width) && !strchr(b->faults, letter))
            b->faults[strlen(b->faults)] = letter;
    }
}

static double availability(const struct bin *b)
{
    return b->rw ? 100.0 * (double)b->n[KVT_OK] / (double)b->rw : 0;
}

static void write_faults_line(FILE *f, const struct kvt_run *run)
{
    size_t kinds[KVT_FAULTS] = {0}, shapes[KVT_PARTITIONS] = {0};
    for (size_t i = 0; i < run->fault_count; i++) {
        kinds[run->faults[i].kind]++;
        if (run->faults[i].kind == KVT_FAULT_PARTITION)
            shapes[run->faults[i].shape]++;
    }
    fprintf(f, "faults injected: %zu", run->fault_count);
    int any = 0;
    for (int k = 0; k < KVT_FAULTS; k++) {
        if (!run->o->faults[k])
            continue;
        fprintf(f, "%s%s %zu", any++ ? ", " : " (", kvt_fault_name((enum kvt_fault)k), kinds[k]);
        /* the shapes by the partitions' count, not after whichever kind comes last */
        if (k == KVT_FAULT_PARTITION && kinds[k])
            fprintf(f, " [%s %zu, %s %zu, %s %zu]", shape_name[0], shapes[0], shape_name[1],
                    shapes[1], shape_name[2], shapes[2]);
    }
    fprintf(f, "%s\n", any ? ")" : "");
    const struct kvt_member_stats *m = &run->members;
    if (m->attempted)
        fprintf(f, "membership changes: %u attempted, %u committed, %u refused, %u not done by"
                   " their deadline; %u wiped node(s) refused under their old id (%u not told"
                   " so)%s\n",
                m->attempted, m->committed, m->refused, m->gave_up, m->wipes_refused,
                m->wipes_unaware, m->short_at_end ? "; NOT every node a voter at the end" : "");
}

static void write_header(FILE *f, const struct kvt_summary *s)
{
    const struct kvt_options *o = s->run->o;
    const struct kvt_cluster *c = s->run->cluster;
    fprintf(f, "kvtorture summary: seed %llu, %u node(s) (%s), %u workers, %u keys (%s), %.0f s\n",
            (unsigned long long)o->seed, c->count, c->replicated ? "replicated" : "standalone",
            o->workers, o->keys, o->key_dist == KVT_KEYS_ZIPF ? "zipf" : "uniform",
            o->duration_s);
    fprintf(f, "nemeses:");
    for (int k = 0, any = 0; k < KVT_FAULTS; k++)
        if (o->faults[k])
            fprintf(f, "%s %s", any++ ? "," : "", kvt_fault_name((enum kvt_fault)k));
    fprintf(f, " (one every %.1f - %.1f s)\n\n%s\n\n", o->nemesis_interval_s / 2,
            o->nemesis_interval_s * 1.5, s->verdict);
    fprintf(f, "operations: %zu in %.0f s (%.0f/s)\n", s->stats->ops, o->duration_s,
            (double)s->stats->ops / o->duration_s);
    kvt_report_count_table(f, &s->stats->counts);
    write_faults_line(f, s->run);
    kvt_check_print(s->check, f);
    fprintf(f, "check: %.1f s in all, reading and %zu shard(s) included; kvtorture's peak memory"
               " %.0f MiB\n", s->check_wall_s, s->stats->shards, (double)s->peak_rss_kib / 1024);
}

static void write_chart(FILE *f, const struct kvt_summary *s, size_t width)
{
    size_t median = median_ok(s);
    fprintf(f, "\navailability per %zu s. ok/s: ok ops invoked per second, the bar against the"
               " median second's\n(%zu/s); avail: ok / all reads and writes (a cas may fail by"
               " design); down: seconds under\n%.0f%% of the median; faults started: K kill, P"
               " pause, W restart-wipe, N partition,\nC power-cut, L isolate-leader, D disk-error,"
               " F disk-full, T clock-jump, S slow-link,\nM membership\n"
               "  %6s %7s %7s %4s\n", width, median,
            DOWN_FRACTION * 100, "from s", "ok/s", "avail", "down");
    for (size_t from = 0; from < s->seconds; from += width) {
        struct bin b;
        fill_bin(s, from, width, median, &b);
        double rate = (double)b.ok / (double)width, rel = median ? rate / (double)median : 0;
        char bar[BAR_WIDTH + 1];
        size_t fillw = (size_t)((rel < 1 ? rel : 1) * BAR_WIDTH + 0.5);
        memset(bar, '#', fillw);
        memset(bar + fillw, ' ', BAR_WIDTH - fillw);
        bar[BAR_WIDTH] = '\0';
        fprintf(f, "  %6zu %7.0f %6.1f%% %4zu |%s| %s\n", from, rate, availability(&b), b.down,
                bar, b.faults);
    }
}

static int write_tsv(const char *dir, const struct kvt_summary *s, size_t width)
{
    char path[PATH_BYTES];
    snprintf(path, sizeof path, "%s/availability.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t median = median_ok(s);
    fprintf(f, "# from_s\tops\trw_ok\trw_fail\trw_info\tavailability_pct\tok_per_s\t"
               "down_s\tfaults\n");
    for (size_t from = 0; from < s->seconds; from += width) {
        struct bin b;
        fill_bin(s, from, width, median, &b);
        fprintf(f, "%zu\t%zu\t%zu\t%zu\t%zu\t%.2f\t%.1f\t%zu\t%s\n", from, b.all, b.n[KVT_OK],
                b.n[KVT_FAIL], b.n[KVT_INFO], availability(&b), (double)b.ok / (double)width,
                b.down, b.faults[0] ? b.faults : "-");
    }
    return fclose(f) != 0 ? -1 : 0;
}

static int write_fault_list(const char *dir, const struct kvt_run *run)
{
    char path[PATH_BYTES];
    snprintf(path, sizeof path, "%s/faults.tsv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# start_s\tend_s\tkind\tnode\tshape (partition), step (clock-jump) or delay"
               " (slow-link)\n");
    for (size_t i = 0; i < run->fault_count; i++) {
        const struct kvt_fault_event *e = &run->faults[i];
        char step[24];
        snprintf(step, sizeof step, e->kind == KVT_FAULT_CLOCK_JUMP ? "%+d ms" : "%d ms", e->shape);
        bool ms = e->kind == KVT_FAULT_CLOCK_JUMP || e->kind == KVT_FAULT_SLOW_LINK;
        fprintf(f, "%.3f\t%.3f\t%s\t%u\t%s\n", (double)(e->start_ns - run->start_ns) / 1e9,
                (double)(e->end_ns - run->start_ns) / 1e9, kvt_fault_name(e->kind), e->node,
                e->kind == KVT_FAULT_PARTITION ? shape_name[e->shape] : ms ? step : "-");
    }
    return fclose(f) != 0 ? -1 : 0;
}

int kvt_summary_write(const char *dir, const struct kvt_summary *s)
{
    char path[PATH_BYTES];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "kvtorture: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    size_t width = bin_width(s->seconds);
    snprintf(path, sizeof path, "%s/summary.txt", dir);
    FILE *f = fopen(path, "w");
    int rc = f ? 0 : -1;
    if (f) {
        write_header(f, s);
        write_chart(f, s, width);
        rc = fclose(f) != 0 ? -1 : 0;
    }
    if (rc == 0)
        rc = write_tsv(dir, s, width);
    if (rc == 0)
        rc = write_fault_list(dir, s->run);
    if (rc != 0)
        fprintf(stderr, "kvtorture: cannot write the summary in %s\n", dir);
    else
        printf("summary: %s/summary.txt\n", dir);
    return rc;
}
