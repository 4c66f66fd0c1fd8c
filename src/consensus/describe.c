/* describe.c: one readable line per message, for traces (etcd-io/raft DescribeMessage). */
#include <stdio.h>

#include "consensus.h"

int consensus_describe_msg(const struct consensus_msg *m, char *buf, size_t cap)
{
    const char *name = consensus_msg_type_name(m->type);
    const char *pre = m->pre_vote ? "Pre" : "";
    switch (m->type) {
    case CONSENSUS_MSG_APPEND:
        return snprintf(buf, cap, "%u->%u %s Term:%llu Prev:%llu/%llu Commit:%llu Entries:%u%s%llu Seq:%llu",
                        m->from, m->to, name, (unsigned long long)m->term,
                        (unsigned long long)m->prev_index, (unsigned long long)m->prev_term,
                        (unsigned long long)m->commit, m->entry_count,
                        m->entry_count ? " Last:" : " ",
                        (unsigned long long)(m->entry_count ? m->prev_index + m->entry_count : 0),
                        (unsigned long long)m->seq);
    case CONSENSUS_MSG_APPEND_RESP:
        return snprintf(buf, cap, "%u->%u %s Term:%llu %s Index:%llu Hint:%llu/%llu Seq:%llu",
                        m->from, m->to, name, (unsigned long long)m->term,
                        m->success ? "OK" : "Rejected", (unsigned long long)m->index,
                        (unsigned long long)m->hint_index, (unsigned long long)m->hint_term,
                        (unsigned long long)m->seq);
    case CONSENSUS_MSG_VOTE:
        return snprintf(buf, cap, "%u->%u %s%s Term:%llu Last:%llu/%llu%s", m->from, m->to, pre,
                        name, (unsigned long long)m->term, (unsigned long long)m->index,
                        (unsigned long long)m->log_term, m->transfer ? " Transfer" : "");
    case CONSENSUS_MSG_VOTE_RESP:
        return snprintf(buf, cap, "%u->%u %s%s Term:%llu %s", m->from, m->to, pre, name,
                        (unsigned long long)m->term, m->success ? "Granted" : "Rejected");
    case CONSENSUS_MSG_SNAPSHOT:
        return snprintf(buf, cap, "%u->%u %s Term:%llu Snapshot:%llu/%llu", m->from, m->to, name,
                        (unsigned long long)m->term, (unsigned long long)m->index,
                        (unsigned long long)m->log_term);
    default:
        return snprintf(buf, cap, "%u->%u %s Term:%llu %s Index:%llu Commit:%llu Seq:%llu",
                        m->from, m->to, name, (unsigned long long)m->term,
                        m->success ? "OK" : "-", (unsigned long long)m->index,
                        (unsigned long long)m->commit, (unsigned long long)m->seq);
    }
}
