/* membership.c: voters and learners, config entries in the log, single-server changes. */
#include <assert.h>
#include <string.h>

#include "internal.h"

/*
 * "...the leader appends the new configuration to its log ... a server always uses the latest
 * configuration in its log, regardless of whether the entry is committed" (dissertation
 * §4.1). One server at a time: any two majorities of the old and the new voters overlap, so
 * no joint consensus is needed. A change waits for the previous one to commit and for the
 * leader's own no-op to commit: without the latter, a leader that has not yet committed in
 * its term could append a change over an uncommitted one of an earlier leader and end up
 * with two disjoint majorities (Ongaro, raft-dev, 2015).
 */

_Static_assert(CONSENSUS_MEMBERS_MAX <= 255, "count and slots fit in a byte");
_Static_assert(CONSENSUS_ADDR_MAX <= 256, "an address length fits in a byte");
_Static_assert(CONSENSUS_VOTERS_MAX <= CONSENSUS_MEMBERS_MAX, "voters are members");

void consensus_membership_bootstrap(struct consensus_membership *m, uint32_t voters)
{
    assert(voters <= CONSENSUS_VOTERS_MAX);
    memset(m, 0, sizeof *m);
    for (uint32_t i = 0; i < voters; i++)
        m->members[i] = (struct consensus_member){.id = i, .role = CONSENSUS_MEMBER_VOTER};
    m->count = voters;
    m->next_id = voters;
}

const struct consensus_member *consensus_membership_find(const struct consensus_membership *m,
                                                         uint32_t id)
{
    int slot = cons_conf_slot(m, id);
    return slot < 0 ? NULL : &m->members[slot];
}

uint32_t consensus_membership_voters(const struct consensus_membership *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->count; i++)
        n += m->members[i].role == CONSENSUS_MEMBER_VOTER;
    return n;
}

int consensus_membership_check(const struct consensus_membership *m)
{
    if (m->count > CONSENSUS_MEMBERS_MAX)
        return CONSENSUS_ERR_INVALID;
    uint32_t voters = consensus_membership_voters(m);
    if (voters > CONSENSUS_VOTERS_MAX || (m->count > 0 && voters == 0))
        return CONSENSUS_ERR_INVALID;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct consensus_member *a = &m->members[i];
        if (a->id == CONSENSUS_NONE || a->id >= m->next_id ||
            (unsigned)a->role > CONSENSUS_MEMBER_LEARNER ||
            memchr(a->addr, 0, CONSENSUS_ADDR_MAX) == NULL)
            return CONSENSUS_ERR_INVALID;
        for (uint32_t j = 0; j < i; j++)
            if (m->members[j].id == a->id)
                return CONSENSUS_ERR_INVALID;
    }
    return 0;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
    return put_u32(put_u32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

static bool has_identity(const struct consensus_membership *m)
{
    bool any = m->cluster_id != 0;
    for (uint32_t i = 0; i < m->count; i++)
        any = any || m->members[i].incarnation != 0;
    return any;
}

/* Layout: magic (its last byte the format), next_id (u32 BE), [2: cluster_id (u64 BE)],
   count (u8), then per member: id (u32 BE), role (u8), [2: incarnation (u64 BE)], address
   length (u8), the address without its NUL. Format 1 when nothing is bound (has_identity). */
uint32_t consensus_membership_encode(const struct consensus_membership *m, uint8_t *buf)
{
    assert(consensus_membership_check(m) == 0);
    bool v2 = has_identity(m);
    uint8_t *p = buf;
    memcpy(p, v2 ? CONSENSUS_MEMBERSHIP_MAGIC_V2 : CONSENSUS_MEMBERSHIP_MAGIC,
           CONSENSUS_MEMBERSHIP_MAGIC_LEN);
    p = put_u32(p + CONSENSUS_MEMBERSHIP_MAGIC_LEN, m->next_id);
    if (v2)
        p = put_u64(p, m->cluster_id);
    *p++ = (uint8_t)m->count;
    for (uint32_t i = 0; i < m->count; i++) {
        const struct consensus_member *a = &m->members[i];
        size_t alen = strlen(a->addr);
        p = put_u32(p, a->id);
        *p++ = (uint8_t)a->role;
        if (v2)
            p = put_u64(p, a->incarnation);
        *p++ = (uint8_t)alen;
        memcpy(p, a->addr, alen);
        p += alen;
    }
    uint32_t len = (uint32_t)(p - buf);
    assert(len <= CONSENSUS_MEMBERSHIP_BYTES_MAX);
    return len;
}

/* Any format: the magic without its last byte. */
bool consensus_membership_is_config(const void *data, uint32_t len)
{
    return len >= CONSENSUS_MEMBERSHIP_MAGIC_LEN && data != NULL &&
           memcmp(data, CONSENSUS_MEMBERSHIP_MAGIC, CONSENSUS_MEMBERSHIP_MAGIC_LEN - 1) == 0;
}

/* One member at p (format 2 when v2); NULL if it does not fit before end or is malformed. */
static const uint8_t *decode_member(const uint8_t *p, const uint8_t *end, bool v2,
                                    struct consensus_member *a)
{
    uint32_t fixed = v2 ? 14 : 6;
    if ((size_t)(end - p) < fixed)
        return NULL;
    a->id = get_u32(p);
    if (p[4] > CONSENSUS_MEMBER_LEARNER)
        return NULL;
    a->role = (enum consensus_member_role)p[4];
    a->incarnation = v2 ? get_u64(p + 5) : 0;
    uint32_t alen = p[fixed - 1];
    p += fixed;
    if (alen >= CONSENSUS_ADDR_MAX || (uint32_t)(end - p) < alen || memchr(p, 0, alen))
        return NULL;
    memcpy(a->addr, p, alen);
    return p + alen;
}

int consensus_membership_decode(const void *data, uint32_t len, struct consensus_membership *out)
{
    if (!consensus_membership_is_config(data, len) || len > CONSENSUS_MEMBERSHIP_BYTES_MAX)
        return CONSENSUS_ERR_INVALID;
    uint8_t version = ((const uint8_t *)data)[CONSENSUS_MEMBERSHIP_MAGIC_LEN - 1];
    bool v2 = version == 2;
    if (version != 1 && !v2)
        return CONSENSUS_ERR_INVALID;
    uint32_t head = v2 ? 13 : 5;
    if (len < CONSENSUS_MEMBERSHIP_MAGIC_LEN + head)
        return CONSENSUS_ERR_INVALID;
    const uint8_t *p = (const uint8_t *)data + CONSENSUS_MEMBERSHIP_MAGIC_LEN;
    const uint8_t *end = (const uint8_t *)data + len;
    struct consensus_membership m;
    memset(&m, 0, sizeof m);
    m.next_id = get_u32(p);
    m.cluster_id = v2 ? get_u64(p + 4) : 0;
    m.count = p[head - 1];
    p += head;
    if (m.count == 0 || m.count > CONSENSUS_MEMBERS_MAX)
        return CONSENSUS_ERR_INVALID;
    for (uint32_t i = 0; i < m.count && p != NULL; i++)
        p = decode_member(p, end, v2, &m.members[i]);
    if (p != end || consensus_membership_check(&m) != 0)
        return CONSENSUS_ERR_INVALID;
    *out = m;
    return 0;
}

int cons_conf_slot(const struct consensus_membership *m, uint32_t id)
{
    for (uint32_t i = 0; i < m->count; i++)
        if (m->members[i].id == id)
            return (int)i;
    return -1;
}

bool cons_conf_is_voter(const struct consensus_membership *m, uint32_t id)
{
    int slot = cons_conf_slot(m, id);
    return slot >= 0 && m->members[slot].role == CONSENSUS_MEMBER_VOTER;
}

static bool newest_config(const struct consensus_node *node, uint64_t above, uint64_t to,
                          struct consensus_membership *out, uint64_t *index_out);

/*
 * A voter campaigns; so does a voter whose removal is not known committed: a leader deposed
 * while removing itself may hold the only copy of that change and the longest log, so the
 * others cannot win without it (2 voters, or a majority cut off) and it must win to commit
 * the change, then step down. Its own vote does not count then: votes are counted over the
 * voters of the candidate's newest membership, member or not, which is what keeps one leader
 * per term. A learner, or a node not yet added, never campaigns.
 */
bool cons_conf_may_campaign(const struct consensus_node *node)
{
    if (node->self_refused)
        return false; /* our id is bound to another data dir: never again (identity.c) */
    if (cons_conf_is_voter(&node->conf, node->cfg.id))
        return true;
    if (node->conf_index <= node->log.commit)
        return false;
    /* The membership before the newest: committed, as the leader that appended the newest
       took it only once the one before had committed. */
    struct consensus_membership prev = node->conf_base;
    uint64_t index = 0;
    newest_config(node, node->conf_base_index, node->conf_index - 1, &prev, &index);
    return cons_conf_is_voter(&prev, node->cfg.id) && consensus_membership_voters(&node->conf) > 0;
}

static void set_conf(struct consensus_node *node, const struct consensus_membership *m,
                     uint64_t index)
{
    node->conf = *m;
    node->conf_index = index;
    node->conf_gen++;
}

/* The newest config entry in (above, to], decoded into *out; false if there is none. */
static bool newest_config(const struct consensus_node *node, uint64_t above, uint64_t to,
                          struct consensus_membership *out, uint64_t *index_out)
{
    for (uint64_t i = to; i > above; i--) {
        const struct consensus_entry *e = cons_clog_entry(&node->log, i);
        if (!consensus_membership_is_config(e->data, e->len))
            continue;
        int err = consensus_membership_decode(e->data, e->len, out);
        assert(err == 0); /* checked when it came in (cons_follow_validate_append, restore) */
        (void)err;
        *index_out = i;
        return true;
    }
    return false;
}

void cons_conf_init(struct consensus_node *node, const struct consensus_membership *base,
                    uint64_t base_index)
{
    node->conf_base = *base;
    node->conf_base_index = base_index;
    set_conf(node, base, base_index);
    cons_conf_appended(node, base_index);
}

void cons_conf_appended(struct consensus_node *node, uint64_t from)
{
    struct consensus_membership m;
    uint64_t index = 0;
    if (newest_config(node, from, cons_clog_last_index(&node->log), &m, &index))
        set_conf(node, &m, index);
}

void cons_conf_truncated(struct consensus_node *node, uint64_t from)
{
    if (node->conf_index < from)
        return;
    struct consensus_membership m;
    uint64_t index = 0;
    uint64_t last = cons_clog_last_index(&node->log);
    assert(last < from);
    if (newest_config(node, node->conf_base_index, last, &m, &index))
        set_conf(node, &m, index);
    else
        set_conf(node, &node->conf_base, node->conf_base_index);
}

void cons_conf_compacting(struct consensus_node *node, uint64_t to)
{
    assert(to <= node->log.commit);
    if (to <= node->conf_base_index)
        return;
    struct consensus_membership m;
    uint64_t index = 0;
    if (newest_config(node, node->conf_base_index, to, &m, &index))
        node->conf_base = m;
    node->conf_base_index = to;
    if (node->conf_index < to)
        node->conf_index = to; /* the same membership, now held as of the new base */
}

void cons_conf_snapshot(struct consensus_node *node, const struct consensus_membership *m,
                        uint64_t index)
{
    if (m != NULL)
        node->conf_base = *m;
    else
        node->conf_base = node->conf;
    node->conf_base_index = index;
    set_conf(node, &node->conf_base, index);
}

void cons_conf_maybe_step_down(struct consensus_node *node)
{
    if (node->role != CONSENSUS_LEADER || node->conf_index > node->log.commit)
        return;
    /* "...the leader steps down once the Cnew entry is committed" (dissertation §4.2.2). */
    if (!cons_conf_is_voter(&node->conf, node->cfg.id))
        cons_role_become_follower(node, node->term, CONSENSUS_NONE);
}

/* The leader's progress follows its members from their old slots to their new ones. */
static void remap_progress(struct consensus_node *node, const struct consensus_membership *next)
{
    struct progress prs[CONSENSUS_MEMBERS_MAX];
    uint64_t last = cons_clog_last_index(&node->log);
    for (uint32_t i = 0; i < next->count; i++) {
        int old = cons_conf_slot(&node->conf, next->members[i].id);
        if (old >= 0) {
            prs[i] = node->prs[old];
            continue;
        }
        cons_progress_reset(&prs[i], last + 1);
        prs[i].recent_active = true;
    }
    memcpy(node->prs, prs, next->count * sizeof *prs);
}

static int add_member(const struct consensus_node *node, struct consensus_membership *m,
                      struct consensus_change *ch)
{
    (void)node;
    if (ch->addr == NULL || strlen(ch->addr) >= CONSENSUS_ADDR_MAX)
        return CONSENSUS_ERR_INVALID;
    bool voter = ch->type == CONSENSUS_CHANGE_ADD_VOTER;
    if (m->count == CONSENSUS_MEMBERS_MAX || m->next_id == CONSENSUS_NONE ||
        (voter && consensus_membership_voters(m) == CONSENSUS_VOTERS_MAX))
        return CONSENSUS_ERR_FULL;
    struct consensus_member *a = &m->members[m->count++];
    memset(a, 0, sizeof *a);
    a->id = m->next_id++;
    a->role = voter ? CONSENSUS_MEMBER_VOTER : CONSENSUS_MEMBER_LEARNER;
    strcpy(a->addr, ch->addr);
    ch->id = a->id;
    return 0;
}

/* "Far behind": not streaming entries (probing, or waiting for a snapshot), or acknowledged
   more than promote_lag_max entries below the commit. Promoting it would leave the voters
   without a working majority until it caught up (dissertation §4.2.1). */
static int promote(const struct consensus_node *node, struct consensus_membership *m,
                   uint32_t id)
{
    int slot = cons_conf_slot(m, id);
    if (slot < 0 || m->members[slot].role != CONSENSUS_MEMBER_LEARNER)
        return CONSENSUS_ERR_NOT_MEMBER;
    if (consensus_membership_voters(m) == CONSENSUS_VOTERS_MAX)
        return CONSENSUS_ERR_FULL;
    const struct progress *pr = &node->prs[slot];
    if (pr->state != PROGRESS_REPLICATE || pr->match + node->cfg.promote_lag_max < node->log.commit)
        return CONSENSUS_ERR_LEARNER_BEHIND;
    m->members[slot].role = CONSENSUS_MEMBER_VOTER;
    return 0;
}

static int remove_member(struct consensus_membership *m, uint32_t id)
{
    int slot = cons_conf_slot(m, id);
    if (slot < 0)
        return CONSENSUS_ERR_NOT_MEMBER;
    if (m->members[slot].role == CONSENSUS_MEMBER_VOTER && consensus_membership_voters(m) == 1)
        return CONSENSUS_ERR_LAST_VOTER;
    memmove(&m->members[slot], &m->members[slot + 1],
            (m->count - (uint32_t)slot - 1) * sizeof m->members[0]);
    m->count--;
    return 0;
}

static int change_apply(const struct consensus_node *node, struct consensus_membership *m,
                        struct consensus_change *ch)
{
    switch (ch->type) {
    case CONSENSUS_CHANGE_ADD_VOTER:
    case CONSENSUS_CHANGE_ADD_LEARNER:
        return add_member(node, m, ch);
    case CONSENSUS_CHANGE_PROMOTE:
        return promote(node, m, ch->id);
    case CONSENSUS_CHANGE_REMOVE:
        return remove_member(m, ch->id);
    }
    return CONSENSUS_ERR_INVALID;
}

int consensus_propose_change(struct consensus_node *node, struct consensus_change *change,
                             uint64_t *index_out)
{
    assert(!node->ready_outstanding);
    if (node->role != CONSENSUS_LEADER)
        return CONSENSUS_ERR_NOT_LEADER;
    if (node->transfer_target != CONSENSUS_NONE)
        return CONSENSUS_ERR_TRANSFERRING;
    if (node->conf_index > node->log.commit || !node->committed_in_term)
        return CONSENSUS_ERR_CHANGE_PENDING;
    struct consensus_membership next = node->conf;
    struct consensus_change ch = *change;
    int err = change_apply(node, &next, &ch);
    if (err == 0)
        err = cons_conf_append(node, &next);
    if (err != 0)
        return err;
    *change = ch;
    *index_out = node->conf_index;
    return 0;
}

bool cons_conf_may_change(const struct consensus_node *node)
{
    return node->role == CONSENSUS_LEADER && node->transfer_target == CONSENSUS_NONE &&
           node->conf_index <= node->log.commit && node->committed_in_term;
}

int cons_conf_append(struct consensus_node *node, const struct consensus_membership *next)
{
    assert(cons_conf_may_change(node));
    uint8_t buf[CONSENSUS_MEMBERSHIP_BYTES_MAX];
    uint32_t len = consensus_membership_encode(next, buf);
    if (node->uncommitted_bytes + len > node->cfg.uncommitted_bytes_max)
        return CONSENSUS_ERR_BUSY;
    cons_clog_append(&node->log, node->term, buf, len);
    node->uncommitted_bytes += len;
    node->send_pending = true;
    remap_progress(node, next);
    set_conf(node, next, cons_clog_last_index(&node->log));
    return 0;
}

const struct consensus_membership *consensus_membership(const struct consensus_node *node)
{
    return &node->conf;
}

uint64_t consensus_membership_index(const struct consensus_node *node)
{
    return node->conf_index;
}

void cons_conf_invariants(const struct consensus_node *node)
{
    assert(consensus_membership_check(&node->conf) == 0);
    assert(consensus_membership_check(&node->conf_base) == 0);
    assert(node->conf_base_index >= node->log.snap_index);
    assert(node->conf_base_index >= node->log.released); /* scans never meet a released one */
    assert(node->conf_base_index <= node->log.commit);
    assert(node->conf_index >= node->conf_base_index);
    assert(node->conf_index <= cons_clog_last_index(&node->log));
    if (node->conf_index > node->conf_base_index) {
        const struct consensus_entry *e = cons_clog_entry(&node->log, node->conf_index);
        assert(consensus_membership_is_config(e->data, e->len));
    }
    /* A bound identity never changes: the newest membership keeps the base's bindings. */
    assert(node->conf_base.cluster_id == 0 || node->conf.cluster_id == node->conf_base.cluster_id);
    for (uint32_t i = 0; i < node->conf_base.count; i++) {
        const struct consensus_member *b = &node->conf_base.members[i];
        const struct consensus_member *m = consensus_membership_find(&node->conf, b->id);
        assert(m == NULL || b->incarnation == 0 || m->incarnation == b->incarnation);
    }
    /* A leader counts itself only while it is a voter. */
    if (node->role == CONSENSUS_LEADER && !cons_conf_is_voter(&node->conf, node->cfg.id))
        assert(node->conf_index > node->log.commit);
}
