/* hist_build.h: writing small histories by hand in tests: one line per op. */
#ifndef TORTURE_HIST_BUILD_H
#define TORTURE_HIST_BUILD_H

#include "history.h"
#include "lin.h"

/* Appends an op on key 0 (process p) that ran over [from, to]. */
void hb_read(struct kvt_history *h, uint32_t p, enum kvt_outcome o, int64_t value, int64_t from,
             int64_t to);
void hb_write(struct kvt_history *h, uint32_t p, enum kvt_outcome o, int64_t value, int64_t from,
              int64_t to);
void hb_cas(struct kvt_history *h, uint32_t p, enum kvt_outcome o, int64_t expected,
            int64_t value, int64_t from, int64_t to);
/* Sorts h and checks key 0 with the default limits (the search); asserts that blocks agree
   when they apply. */
enum kvt_lin_verdict hb_check(struct kvt_history *h, struct kvt_lin_result *r);
/* Sorts h and checks it (every op on key 0) by blocks (reg.h); asserts the fast path
   applies. */
enum kvt_lin_verdict hb_fast(struct kvt_history *h, struct kvt_lin_result *r);

/* Writes h's ops into worker logs in dir (check_logs.h), op.process naming the worker. */
void hb_write_logs(const struct kvt_history *h, const char *dir, unsigned processes);
/* Removes those logs and dir. */
void hb_remove_logs(const char *dir, unsigned processes);

#endif
