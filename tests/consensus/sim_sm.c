/* sim_sm.c: the checking state machine: a running digest of every applied payload. */
#include <assert.h>

#include "sim.h"

void sim_sm_apply(struct sim_sm *sm, const struct consensus_entry *e)
{
    assert(e->index == sm->applied + 1);
    sm->applied = e->index;
    if (e->len == 0)
        return; /* a leader's no-op changes no state */
    if (consensus_membership_is_config(e->data, e->len)) {
        int err = consensus_membership_decode(e->data, e->len, &sm->conf);
        assert(err == 0);
        (void)err;
    }
    uint64_t h = sim_payload_hash(e->data, e->len);
    sm->digest = (sm->digest ^ h) * 0x9E3779B97F4A7C15ull + e->index;
}
