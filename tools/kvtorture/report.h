/* report.h: what a check prints: counts on success, the failing window on a violation. */
#ifndef KVT_REPORT_H
#define KVT_REPORT_H

#include "final.h"
#include "history.h"
#include "lin.h"

#include <stdio.h>

/* Counts of ok/fail/info per operation type. */
void kvt_report_counts(FILE *f, const struct kvt_history *h);
/* One line per key verdict; for a violation, the ops around the point the search stuck. */
void kvt_report_lin(FILE *f, const struct kvt_history *h, const struct kvt_lin_result *r);
void kvt_report_final(FILE *f, const struct kvt_history *h, const struct kvt_final_issue *is,
                      size_t count);
/* One op as a line (times relative to t0_ns, in ms). */
void kvt_report_op(FILE *f, const struct kvt_op *op, int64_t t0_ns, const char *mark);

/* The whole history as text, one op a line; 0 or -1 (errno set). */
int kvt_history_write(const char *path, const struct kvt_history *h, const char *header);
/* Reads what kvt_history_write wrote (lines starting with # are skipped); 0, or the line
   number of the first bad line, or -1 (cannot open / memory). */
long kvt_history_read(const char *path, struct kvt_history *h);

#endif
