/* report.h: what a check prints: counts on success, the failing window on a violation. */
#ifndef KVT_REPORT_H
#define KVT_REPORT_H

#include "final.h"
#include "history.h"
#include "lin.h"

#include <stdio.h>

/* Counts of ok/fail/info per operation type. */
void kvt_report_counts(FILE *f, const struct kvt_history *h);
void kvt_report_count_table(FILE *f, const struct kvt_counts *c);
/* One line per key verdict (h: that key's ops, or all; times relative to t0_ns); for a
   violation, the ops that show it: the blocks' marked ops, or those around the point the
   search stuck. */
void kvt_report_lin(FILE *f, const struct kvt_history *h, const struct kvt_lin_result *r,
                    int64_t t0_ns);
/* A violation's window alone (for a second checker's view of the same key). */
void kvt_report_lin_window(FILE *f, const struct kvt_history *h, const struct kvt_lin_result *r,
                           int64_t t0_ns);
void kvt_report_final(FILE *f, const struct kvt_history *h, const struct kvt_final_issue *is,
                      size_t count, int64_t t0_ns);
/* One op as a line (times relative to t0_ns, in ms). */
void kvt_report_op(FILE *f, const struct kvt_op *op, int64_t t0_ns, const char *mark);

/* The whole history as text, one op a line; 0 or -1 (errno set). */
int kvt_history_write(const char *path, const struct kvt_history *h, const char *header);
/* The same in parts, for a history written piece by piece: the header lines, then ops. */
int kvt_history_write_header(FILE *f, const char *header);
int kvt_history_write_lines(FILE *f, const struct kvt_history *h);
/* Reads what kvt_history_write wrote (lines starting with # are skipped); 0, or the line
   number of the first bad line, or -1 (cannot open / memory). */
long kvt_history_read(const char *path, struct kvt_history *h);

#endif
