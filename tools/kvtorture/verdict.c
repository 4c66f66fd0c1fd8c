/* verdict.c: one exit code for a run that may hold several verdicts: safety (clean, violation,
   unknown), liveness (a node did not catch up), a node that failed, a fault not injected. */
#include "kvtorture.h"

#include <stdio.h>
#include <string.h>

static int worst(int a, int b)
{
    if (a == KVT_EXIT_VIOLATION || b == KVT_EXIT_VIOLATION)
        return KVT_EXIT_VIOLATION;
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

int kvt_verdict_combine(const struct kvt_run *run, int safety)
{
    /* A cluster left short of a voter did not come back: liveness. */
    int rc = worst(safety, run->live_failed || run->members.short_at_end ? KVT_EXIT_LIVENESS : 0);
    rc = worst(rc, run->nodes_failed ? KVT_EXIT_NODE_FAILED : 0);
    /* A run that did not inject what it was asked to is no proof of anything. */
    return worst(rc, run->faults_missed ? KVT_EXIT_SETUP : 0);
}

const char *kvt_verdict_name(int rc)
{
    switch (rc) {
    case KVT_EXIT_CLEAN: return "CLEAN";
    case KVT_EXIT_VIOLATION: return "VIOLATION";
    case KVT_EXIT_UNKNOWN: return "UNKNOWN";
    case KVT_EXIT_LIVENESS: return "LIVENESS FAILURE";
    case KVT_EXIT_NODE_FAILED: return "NODE FAILED";
    default: return "SETUP FAILURE";
    }
}

void kvt_verdict_also(const struct kvt_run *run, int rc, char *out, size_t size)
{
    out[0] = '\0';
    if (run->live_failed && rc != KVT_EXIT_LIVENESS)
        snprintf(out, size, "; also a liveness failure");
    if (run->members.short_at_end)
        snprintf(out + strlen(out), size - strlen(out), "; the membership was not restored");
    if (run->nodes_failed && rc != KVT_EXIT_NODE_FAILED)
        snprintf(out + strlen(out), size - strlen(out), "; also %u node(s) failed",
                 run->nodes_failed);
    if (run->faults_missed)
        snprintf(out + strlen(out), size - strlen(out), "; %u fault(s) not injected",
                 run->faults_missed);
}
