/* quorum.c: pure majority arithmetic (etcd-io/raft quorum/majority.go does the same job). */
#include "quorum.h"

#include <assert.h>

#include "consensus.h"

uint32_t cons_quorum_majority(uint32_t node_count)
{
    assert(node_count >= 1);
    return node_count / 2 + 1;
}

uint64_t cons_quorum_commit_index(const uint64_t *match, uint32_t node_count)
{
    assert(node_count >= 1);
    assert(node_count <= CONSENSUS_VOTERS_MAX);
    uint64_t sorted[CONSENSUS_VOTERS_MAX];
    /* Insertion sort, descending: n is at most 7. */
    for (uint32_t i = 0; i < node_count; i++) {
        uint32_t j = i;
        while (j > 0 && sorted[j - 1] < match[i]) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = match[i];
    }
    /* The majority-th largest is reached by at least a majority. */
    uint64_t index = sorted[cons_quorum_majority(node_count) - 1];
    assert(index <= sorted[0]);
    return index;
}

enum quorum_result cons_quorum_vote_result(const uint8_t *votes, uint32_t node_count)
{
    uint32_t yes = 0;
    uint32_t no = 0;
    for (uint32_t i = 0; i < node_count; i++) {
        assert(votes[i] <= QUORUM_VOTE_NO);
        yes += votes[i] == QUORUM_VOTE_YES;
        no += votes[i] == QUORUM_VOTE_NO;
    }
    uint32_t need = cons_quorum_majority(node_count);
    if (yes >= need)
        return QUORUM_WON;
    if (no > node_count - need)
        return QUORUM_LOST;
    return QUORUM_PENDING;
}
