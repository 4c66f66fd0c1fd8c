/* quorum.h: pure majority arithmetic: the commit index and the outcome of a vote. */
#ifndef CONSENSUS_QUORUM_H
#define CONSENSUS_QUORUM_H

#include <stdint.h>

enum quorum_vote { QUORUM_VOTE_NONE = 0, QUORUM_VOTE_YES, QUORUM_VOTE_NO };
enum quorum_result { QUORUM_PENDING = 0, QUORUM_WON, QUORUM_LOST };

uint32_t cons_quorum_majority(uint32_t node_count);
/* The largest index that a majority of match[0..n) has reached. */
uint64_t cons_quorum_commit_index(const uint64_t *match, uint32_t node_count);
enum quorum_result cons_quorum_vote_result(const uint8_t *votes, uint32_t node_count);

#endif
