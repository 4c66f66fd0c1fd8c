/* test_rep_storage.c: storage faults in a real 3-node cluster. A replica whose log is corrupt
   refuses to start, saying what is wrong and how to rebuild it, while the cluster keeps
   serving; rebuilt empty, it catches up. A leader whose disk fails stops taking writes (the
   one in flight answers TIMEOUT, later ones UNAVAILABLE), says so in its status, and the
   others go on. Every answer is checked against the final state: acknowledged writes are
   there, definitely refused ones are not. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_MAX 400

enum outcome { UNSET, ACKED, REFUSED, UNKNOWN };

struct ledger {
    char key[KEYS_MAX][16];
    enum outcome out[KEYS_MAX];
    int count;
};

/* One write through node; returns its code (0: acknowledged, -1: no answer). */
static int ledger_write(struct rep *r, int node, struct ledger *l)
{
    cr_assert_lt(l->count, KEYS_MAX);
    int i = l->count++;
    snprintf(l->key[i], sizeof l->key[i], "st%04d", i);
    SetResponse s;
    if (rep_set(r, node, l->key[i], l->key[i], &s) != 0) {
        l->out[i] = UNKNOWN;
        return -1;
    }
    int code = s.success ? 0 : s.has_error_code ? (int)s.error_code : -2;
    SetResponse_free(&s);
    cr_assert_neq(code, -2, "an error without a code");
    l->out[i] = code == 0 ? ACKED : code == ErrorCode_TIMEOUT ? UNKNOWN : REFUSED;
    return code;
}

/* Every acknowledged key is on node (linearizable reads), every refused one is not. */
static void ledger_check(struct rep *r, int node, const struct ledger *l)
{
    for (int i = 0; i < l->count; i++) {
        if (l->out[i] == UNSET || l->out[i] == UNKNOWN)
            continue;
        GetResponse g;
        cr_assert_eq(rep_get(r, node, l->key[i], true, &g), 0);
        cr_assert(g.success, "read %s on node %d", l->key[i], node);
        if (l->out[i] == ACKED)
            cr_assert(g.found, "acknowledged %s is missing on node %d", l->key[i], node);
        else
            cr_assert(!g.found, "%s was refused with a definite error, yet node %d has it",
                      l->key[i], node);
        GetResponse_free(&g);
    }
}

/* Writes through node until count are acknowledged (retrying refusals, with a deadline). */
static void write_acked(struct rep *r, int node, struct ledger *l, int count)
{
    double deadline = node_now() + REP_WAIT_S;
    for (int acked = 0; acked < count;) {
        acked += ledger_write(r, node, l) == 0;
        cr_assert_lt(node_now(), deadline, "writes through node %d stopped", node);
    }
}

static void flip_wal_bit(struct rep *r, int node, long offset)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/wal/00000000000000000001.wal", r->nodes[node].dir);
    FILE *f = fopen(path, "r+b");
    cr_assert(f, "%s", path);
    cr_assert_eq(fseek(f, offset, SEEK_SET), 0);
    int c = fgetc(f);
    cr_assert_neq(c, EOF);
    cr_assert_eq(fseek(f, offset, SEEK_SET), 0);
    fputc(c ^ 0x04, f);
    cr_assert_eq(fclose(f), 0);
}

Test(rep_storage, a_corrupt_replica_refuses_to_start_and_the_cluster_keeps_serving)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    struct ledger *l = calloc(1, sizeof *l);
    cr_assert(l);
    write_acked(&r, leader, l, 30);
    rep_wait_converged(&r);
    int bad = (leader + 1) % REP_NODES;
    rep_kill(&r, bad);
    flip_wal_bit(&r, bad, 512 + 16 + 30); /* in the first block of records: long synced */
    const char *args[] = {"--config", r.nodes[bad].config, NULL};
    static char err[16384];
    int code = node_run_once(args, err, sizeof err);
    cr_assert_neq(code, 0, "a corrupt replica started");
    cr_assert(strstr(err, "00000000000000000001.wal offset 512: block checksum mismatch (index 1)"),
              "the refusal does not name file, offset and index:\n%s", err);
    cr_assert(strstr(err, "catches up from the leader"), "no way to rebuild is given:\n%s", err);
    /* The other two serve throughout. */
    write_acked(&r, leader, l, 20);
    /* Rebuilt as the message says: an empty data dir, started again; it catches up. */
    rep_wipe(&r, bad);
    rep_restart(&r, bad);
    rep_wait_converged(&r);
    ledger_check(&r, bad, l);
    free(l);
    rep_cleanup(&r);
}

static bool storage_failed(struct rep *r, int node, char *why, size_t size)
{
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    bool failed = info.has_storage_failure;
    if (failed)
        snprintf(why, size, "%.*s", (int)info.storage_failure.len,
                 (const char *)info.storage_failure.data);
    NodeInfo_free(&info);
    return failed;
}

Test(rep_storage, a_leader_whose_disk_fails_stops_and_the_others_go_on)
{
    struct rep r;
    rep_start(&r, "");
    int leader = rep_wait_leader(&r);
    struct ledger *l = calloc(1, sizeof *l);
    cr_assert(l);
    write_acked(&r, leader, l, 20);
    rep_faults(&r, leader, "disk_fail=sync:1:EIO\n");
    double deadline = node_now() + REP_WAIT_S;
    int code;
    while ((code = ledger_write(&r, leader, l)) == 0)
        cr_assert_lt(node_now(), deadline, "the leader never noticed its disk");
    /* The write whose sync failed may be in the others' logs: unknown, never a lie. */
    cr_assert(code == ErrorCode_TIMEOUT || code == ErrorCode_UNAVAILABLE, "code %d", code);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ledger_write(&r, leader, l), ErrorCode_UNAVAILABLE);
    char why[600];
    cr_assert(storage_failed(&r, leader, why, sizeof why), "its status does not say it failed");
    cr_assert(strstr(why, "Input/output error"), "%s", why);
    /* The other two elect a leader among themselves and take writes. */
    int other = (leader + 1) % REP_NODES;
    deadline = node_now() + REP_WAIT_S;
    for (int acked = 0; acked < 20;) {
        acked += ledger_write(&r, other, l) == 0;
        cr_assert_lt(node_now(), deadline, "the others did not go on");
    }
    rep_kill(&r, leader);
    rep_faults(&r, leader, "");
    rep_restart(&r, leader);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        ledger_check(&r, i, l);
    cr_assert(!storage_failed(&r, leader, why, sizeof why), "a restart on a working disk clears it");
    free(l);
    rep_cleanup(&r);
}
