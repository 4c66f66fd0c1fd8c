/* clog.h: the core's in-memory log: an array of entries after the snapshot index. */
#ifndef CONSENSUS_CLOG_H
#define CONSENSUS_CLOG_H

#include "consensus.h"

/*
 * Indexes: snap_index < first entry ... last entry. Entry i lives at ents[i - snap_index - 1].
 * applied <= commit <= last; snap_index <= applied. Entries below unstable were handed to
 * the caller for persistence; entries at or below persisted are durable (persisted may trail
 * unstable - 1 while the caller syncs in the background). applied <= persisted. Entries at or
 * below released have no payload (the caller reads them back from its storage); released <=
 * applied.
 */
struct clog {
    uint64_t snap_index;
    uint64_t snap_term;
    struct consensus_entry *ents;
    size_t count;
    size_t cap;
    uint64_t commit;
    uint64_t applied;
    uint64_t unstable;
    uint64_t persisted;
    uint64_t released; /* entries at or below it (and above snap_index) have no payload */
};

void cons_clog_init(struct clog *log, uint64_t snap_index, uint64_t snap_term);
void cons_clog_free(struct clog *log);

uint64_t cons_clog_last_index(const struct clog *log);
uint64_t cons_clog_last_term(const struct clog *log);
/* True and *term set if index is the snapshot index or in the log. */
bool cons_clog_term(const struct clog *log, uint64_t index, uint64_t *term);
/* The entry at index; index must be in (snap_index, last]. */
const struct consensus_entry *cons_clog_entry(const struct clog *log, uint64_t index);
/* Bytes of payload in (from, to]. */
uint64_t cons_clog_bytes(const struct clog *log, uint64_t from, uint64_t to);

/* Appends a copy at last + 1. */
void cons_clog_append(struct clog *log, uint64_t term, const void *data, uint32_t len);
/* Drops every entry at or after from (> commit). */
void cons_clog_truncate(struct clog *log, uint64_t from);
/* Drops every entry at or below index (<= applied); the snapshot moves to (index, term). */
void cons_clog_compact(struct clog *log, uint64_t index, uint64_t term);
/* Frees the payloads of the entries up to index (<= applied); their index, term and length
   stay. */
void cons_clog_release(struct clog *log, uint64_t index);
/* Drops everything: the log restarts after a received snapshot at (index, term). */
void cons_clog_reset(struct clog *log, uint64_t index, uint64_t term);

/* Raft §5.4.1: a log ending at (last_index, last_term) is at least as up to date as ours. */
bool cons_clog_up_to_date(const struct clog *log, uint64_t last_index, uint64_t last_term);
/* The largest index <= index whose term is <= term (the reject hint), and its term. */
uint64_t cons_clog_find_conflict(const struct clog *log, uint64_t index, uint64_t term,
                                 uint64_t *term_out);

void cons_clog_invariants(const struct clog *log, uint64_t current_term);

#endif
