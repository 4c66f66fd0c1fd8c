/* summary.h: a run on one page (DIR/summary.txt): what ran, the verdict, operations, faults
   injected by kind, checker time, and availability over time as a text chart; with the
   chart's data (DIR/availability.tsv) and the faults (DIR/faults.tsv) for plotting. */
#ifndef KVT_SUMMARY_H
#define KVT_SUMMARY_H

#include "check.h"
#include "check_logs.h"
#include "kvtorture.h"

/* The chart has at most this many rows: bins widen (1, 2, 5, 10, 15, 30, 60 s, ...) to fit. */
#define KVT_SUMMARY_ROWS_MAX 60

struct kvt_summary {
    const struct kvt_run *run;
    const struct kvt_check *check;
    const struct kvt_logs_stats *stats;   /* per-second bins from run->start_ns */
    size_t seconds;                       /* bins in stats */
    const char *verdict;                  /* the verdict line kvtorture printed */
    double check_wall_s;                  /* the whole check, reading and sharding included */
    long peak_rss_kib;                    /* kvtorture's own peak memory (0: unknown) */
};

/* Writes the three files (the directory is created if missing). 0, or -1 (message printed). */
int kvt_summary_write(const char *dir, const struct kvt_summary *s);

#endif
