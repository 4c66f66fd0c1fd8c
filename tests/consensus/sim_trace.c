/* sim_trace.c: a ring of the last events of a run, printed when a check fails. */
#include <stdio.h>

#include "sim.h"

void sim_trace_add(struct sim_trace *t, uint64_t time, const char *fmt, ...)
{
    struct sim_trace_event *ev = &t->ev[t->next];
    ev->time = time;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->text, sizeof ev->text, fmt, ap);
    va_end(ap);
    t->next = (t->next + 1) % SIM_TRACE_MAX;
    if (t->count < SIM_TRACE_MAX)
        t->count++;
    if (t->verbose)
        fprintf(stderr, "  t=%llu %s\n", (unsigned long long)time, ev->text);
}

void sim_trace_dump(const struct sim_trace *t, uint32_t last)
{
    uint32_t n = last < t->count ? last : t->count;
    for (uint32_t i = 0; i < n; i++) {
        const struct sim_trace_event *ev =
            &t->ev[(t->next + SIM_TRACE_MAX - n + i) % SIM_TRACE_MAX];
        fprintf(stderr, "  t=%llu %s\n", (unsigned long long)ev->time, ev->text);
    }
}
