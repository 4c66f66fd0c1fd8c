/* txn.h: list-append transactions as a torture run records them, for the append checker. */
#ifndef KVT_TXN_H
#define KVT_TXN_H

#include "history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Elements are unique positive integers; a value that is not a list of them reads as one
   element KVT_FOREIGN_ELEMENT, which nobody appended (the checker flags it). */
#define KVT_FOREIGN_ELEMENT (-1)
/* Longest list a read keeps (longer values read as foreign). */
#define KVT_LIST_MAX 100000u

enum kvt_mop_kind { KVT_MOP_READ, KVT_MOP_APPEND };

/* One micro-operation, in the order the transaction did them. */
struct kvt_mop {
    enum kvt_mop_kind kind;
    uint32_t key;
    bool conflict;       /* read: the key was among the commit's read_conflict_keys */
    int64_t element;     /* append */
    int64_t *list;       /* read: what it saw, oldest first (owned; NULL when empty) */
    uint32_t len;
};

struct kvt_txn {
    uint32_t process;
    enum kvt_outcome outcome;   /* of the commit (a read-only transaction's reads: ok) */
    int64_t invoke_ns, complete_ns;
    int32_t node;
    struct kvt_mop *mops;       /* owned */
    uint32_t mop_count;
};

struct kvt_txns {
    struct kvt_txn *txns;
    size_t count, cap;
};

void kvt_txns_init(struct kvt_txns *h);
void kvt_txns_free(struct kvt_txns *h);
void kvt_txn_free(struct kvt_txn *t);
/* Appends t and takes its mops (t's are NULLed whatever the result); 0, or -1 (memory). */
int kvt_txns_add(struct kvt_txns *h, struct kvt_txn *t);
/* Adds a mop to t; 0 or -1 (memory). A read's list is copied. */
int kvt_txn_read(struct kvt_txn *t, uint32_t key, bool conflict, const int64_t *list,
                 uint32_t len);
int kvt_txn_append(struct kvt_txn *t, uint32_t key, int64_t element);
/* Sorts by invocation time (then process). */
void kvt_txns_sort(struct kvt_txns *h);

/* Counts per outcome: transactions, and their reads and appends. */
struct kvt_txn_counts {
    size_t txns[KVT_OUTCOMES], reads[KVT_OUTCOMES], appends[KVT_OUTCOMES];
};
void kvt_txns_count(const struct kvt_txns *h, struct kvt_txn_counts *out);

/* A text file, one transaction a line:
     PROCESS OUTCOME INVOKE_NS COMPLETE_NS NODE MOP...
   each MOP one word: rKEY=E,E,...  (a read, the key in the conflict set), sKEY=E,...  (a
   snapshot read only), or aKEY+E  (an append); e.g. "0 ok 10 20 1 r3=5,9 a3+12".
   0 or -1 (errno set). */
int kvt_txns_write(const char *path, const struct kvt_txns *h, const char *header);
/* One line of that file into t (its mops allocated); 0, 1 (bad: t freed by the caller), or
   -1 (memory). The line is modified. */
int kvt_txn_parse(char *line, struct kvt_txn *t);
/* 0, the number of the first bad line, or -1 (cannot open / memory). */
long kvt_txns_read(const char *path, struct kvt_txns *h);
/* Does the file start with the append history header? */
bool kvt_txns_is_file(const char *path);

#endif
