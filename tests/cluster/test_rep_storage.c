/* test_rep_storage.c: storage faults in a real 3-node cluster. A replica whose log or newest
   snapshot is corrupt refuses to start, saying what is wrong and how to rebuild it, while the
   cluster keeps serving; rebuilt empty, it catches up. A leader whose disk fails stops taking
   writes (the one in flight answers TIMEOUT, later ones UNAVAILABLE), says so in its status, and
   the others go on. A node stopped (SIGTERM) with writes in flight answers each truthfully:
   TIMEOUT for one it proposed, SHUTTING_DOWN (at once) for one that waited for a leader. Every
   answer is checked against the final state: acknowledged writes are there, definitely refused
   ones are not. */
#include "rep_fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_MAX 1024
/* Writes sent pipelined to each of two nodes before the leader is stopped. */
#define PIPELINED 200

enum outcome { UNSET, ACKED, REFUSED, UNKNOWN };

struct ledger {
    char key[KEYS_MAX][16];
    enum outcome out[KEYS_MAX];
    int count;
};

/* What one answer means, by kvtorture's rule: TIMEOUT is unknown, any other error definite. */
static enum outcome outcome_of(bool success, bool has_code, int code)
{
    cr_assert(success || has_code, "an error without a code");
    return success ? ACKED : code == ErrorCode_TIMEOUT ? UNKNOWN : REFUSED;
}

/* A new key in the ledger, its outcome unknown until an answer says otherwise. */
static int ledger_add(struct ledger *l)
{
    cr_assert_lt(l->count, KEYS_MAX);
    int i = l->count++;
    snprintf(l->key[i], sizeof l->key[i], "st%04d", i);
    l->out[i] = UNKNOWN;
    return i;
}

/* One write through node; returns its code (0: acknowledged, -1: no answer). */
static int ledger_write(struct rep *r, int node, struct ledger *l)
{
    int i = ledger_add(l);
    SetResponse s;
    if (rep_set(r, node, l->key[i], l->key[i], &s) != 0)
        return -1;
    l->out[i] = outcome_of(s.success, s.has_error_code, (int)s.error_code);
    int code = s.success ? 0 : (int)s.error_code;
    SetResponse_free(&s);
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

/* Flips one bit in the middle of node's newest snapshot file; path gets its name. */
static void flip_newest_snapshot(struct rep *r, int node, char *path, size_t size)
{
    char dir[400], newest[256] = "";
    snprintf(dir, sizeof dir, "%s/data", r->nodes[node].dir);
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    for (struct dirent *de; (de = readdir(d));)
        if (strncmp(de->d_name, "snapshot-", 9) == 0 && !strstr(de->d_name, ".tmp") &&
            strcmp(de->d_name, newest) > 0)
            snprintf(newest, sizeof newest, "%s", de->d_name);
    closedir(d);
    cr_assert(newest[0], "no snapshot in %s", dir);
    snprintf(path, size, "%s/%s", dir, newest);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0, "%s", path);
    off_t at = lseek(fd, 0, SEEK_END) / 2;
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x10;
    cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    cr_assert_eq(close(fd), 0);
}

/* A replica's snapshot file is checked (checksums) as its log is: one flipped bit refuses the
   start with a message naming the file and saying how to rebuild it; the cluster serves on,
   and the replica, rebuilt empty, catches up. */
Test(rep_storage, a_replica_with_a_corrupt_snapshot_refuses_to_start_and_is_rebuilt,
     .timeout = 120)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"snapshot_every_entries\": 50, "
                  "\"snapshot_log_growth_percent\": 0, \"snapshot_log_min_bytes\": 0}");
    int leader = rep_wait_leader(&r);
    int bad = (leader + 1) % REP_NODES;
    struct ledger *l = calloc(1, sizeof *l);
    cr_assert(l);
    double deadline = node_now() + REP_WAIT_S;
    for (;;) {
        write_acked(&r, leader, l, 10);
        NodeInfo info;
        cr_assert_eq(rep_info(&r, bad, &info), 0);
        int64_t snapshot = info.snapshot_index;
        NodeInfo_free(&info);
        if (snapshot > 0)
            break;
        cr_assert_lt(node_now(), deadline, "node %d took no snapshot", bad);
    }
    rep_kill(&r, bad);
    char path[700];
    flip_newest_snapshot(&r, bad, path, sizeof path);
    const char *args[] = {"--config", r.nodes[bad].config, NULL};
    static char err[16384];
    cr_assert_neq(node_run_once(args, err, sizeof err), 0, "a corrupt replica started");
    cr_assert(strstr(err, path) && strstr(err, "snapshot is corrupt"),
              "the refusal does not name the file:\n%s", err);
    cr_assert(strstr(err, "newest snapshot is damaged") &&
                  strstr(err, "catches up from the leader"),
              "no way to rebuild is given:\n%s", err);
    write_acked(&r, leader, l, 20);
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

/* Rewrites a stopped node's config with its request timeout set to ms. */
static void set_request_timeout(struct rep *r, int node, unsigned ms)
{
    static const char from[] = "\"request_timeout_ms\": 2000";
    const char *path = r->nodes[node].config;
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    char text[4096], out[4200];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    cr_assert_eq(fclose(f), 0);
    char *at = strstr(text, from);
    cr_assert(at, "no request timeout in %s", path);
    snprintf(out, sizeof out, "%.*s\"request_timeout_ms\": %u%s", (int)(at - text), text, ms,
             at + sizeof from - 1);
    cr_assert(f = fopen(path, "wb"), "%s", path);
    cr_assert_eq(fputs(out, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
}

/* Sends PIPELINED writes of new keys on c without waiting; returns the first one's seqid (the
   ledger slots follow from *first). */
static int32_t pipeline_writes(struct rep *r, struct net_client *c, struct ledger *l, int *first)
{
    *first = l->count;
    int32_t seq0 = r->seqid + 1;
    for (int k = 0; k < PIPELINED; k++) {
        int i = ledger_add(l);
        SetRequest q;
        SetRequest_init(&q);
        tp_bytes_set_str(&q.key, l->key[i]);
        tp_bytes_set_str(&q.value, l->key[i]);
        int rc;
        REP_SEND(c, setKey, ++r->seqid, &q, rc);
        SetRequest_free(&q);
        cr_assert_eq(rc, 0, "send");
    }
    return seq0;
}

/* Reads the answers to those writes (they come in request order) and counts their outcomes;
   when the connection ends first, the rest stay unknown. */
static void pipeline_answers(struct net_client *c, struct ledger *l, int first, int32_t seq0,
                             int counts[UNKNOWN + 1])
{
    for (int k = 0; k < PIPELINED; k++) {
        TransactionalKV_setKey_result res;
        TransactionalKV_setKey_result_init(&res);
        int rc;
        REP_RECV(c, setKey, seq0 + k, &res, rc);
        if (rc != 0 || !res.has_success) {
            TransactionalKV_setKey_result_free(&res);
            break;
        }
        const SetResponse *s = &res.success;
        l->out[first + k] = outcome_of(s->success, s->has_error_code, (int)s->error_code);
        counts[l->out[first + k]]++;
        TransactionalKV_setKey_result_free(&res);
    }
}

/* A cluster whose request timeout (30 s) is longer than a stop waits for the requests it
   holds (SERVER_STOP_DEADLINE_MS), so what answers them in the tests below is the stop (or a
   step-down), never their deadline. */
static void start_patient(struct rep *r)
{
    rep_start(r, "");
    for (int i = 0; i < REP_NODES; i++) {
        cr_assert_eq(node_stop(&r->nodes[i], SIGTERM), 0);
        set_request_timeout(r, i, 30000);
        rep_restart(r, i);
    }
}

static void signal_others(struct rep *r, int node, int sig)
{
    for (int i = 1; i < REP_NODES; i++)
        cr_assert_eq(kill(r->nodes[(node + i) % REP_NODES].pid, sig), 0);
}

/* Sends PIPELINED writes to node, stops it (SIGTERM) with them in flight and counts what it
   answered (got[]); it must exit cleanly. Returns how long the answers took. */
static double stop_with_writes_in_flight(struct rep *r, int node, struct ledger *l,
                                         int got[UNKNOWN + 1])
{
    struct net_client c; /* waits longer than a stop takes */
    cr_assert_eq(net_client_connect(&c, r->nodes[node].addr, true, 60000), NET_OK);
    int first;
    int32_t seq0 = pipeline_writes(r, &c, l, &first);
    /* It read them once it answers a later call on another connection (one event loop). */
    NodeInfo info;
    cr_assert_eq(rep_info(r, node, &info), 0);
    NodeInfo_free(&info);
    rep_disconnect(r, node);
    double t0 = node_now();
    cr_assert_eq(kill(r->nodes[node].pid, SIGTERM), 0);
    pipeline_answers(&c, l, first, seq0, got);
    net_client_close(&c);
    cr_assert_eq(node_stop(&r->nodes[node], 0), 0, "the stopped node did not exit cleanly");
    return node_now() - t0;
}

/* The shutdown path under kvtorture's rule, on a leader: its followers are paused, so it
   cannot commit anything, and it is stopped while it holds PIPELINED writes it proposed.
   None may be acknowledged; each is TIMEOUT (it is in the leader's log, and may come back),
   or a definite error only when it is in no log, which every node's state is checked
   against once all three are back. */
Test(rep_storage, a_leader_stopped_while_it_holds_writes_answers_each_truthfully, .timeout = 150)
{
    struct rep r;
    start_patient(&r);
    int leader = rep_wait_leader(&r);
    struct ledger *l = calloc(1, sizeof *l);
    cr_assert(l);
    write_acked(&r, leader, l, 10);
    rep_wait_converged(&r);
    signal_others(&r, leader, SIGSTOP);
    int got[UNKNOWN + 1] = {0};
    double took = stop_with_writes_in_flight(&r, leader, l, got);
    int none = PIPELINED - got[UNKNOWN] - got[REFUSED] - got[ACKED];
    cr_log_info("a leader without its followers, stopped with %d writes in flight, answered "
                "%d TIMEOUT, %d with a definite error, %d OK, %d not at all, in %.1f s",
                PIPELINED, got[UNKNOWN], got[REFUSED], got[ACKED], none, took);
    cr_assert_eq(got[ACKED], 0, "a leader without a quorum acknowledged a write");
    cr_assert_gt(got[UNKNOWN], 0, "no write it proposed was answered TIMEOUT");
    signal_others(&r, leader, SIGCONT);
    rep_restart(&r, leader);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        ledger_check(&r, i, l);
    free(l);
    rep_cleanup(&r);
}

/* The same on a node that knows no leader (the other two are paused): its writes wait for
   one, in no log, and the stop answers them SHUTTING_DOWN, a definite error; none of them
   may be anywhere once all three are back. */
Test(rep_storage, a_node_without_a_leader_stopped_refuses_its_waiting_writes, .timeout = 150)
{
    struct rep r;
    start_patient(&r);
    int leader = rep_wait_leader(&r);
    int node = (leader + 1) % REP_NODES;
    struct ledger *l = calloc(1, sizeof *l);
    cr_assert(l);
    write_acked(&r, node, l, 10);
    rep_wait_converged(&r);
    signal_others(&r, node, SIGSTOP);
    double deadline = node_now() + REP_WAIT_S;
    while (rep_leader_seen_by(&r, node) >= 0)
        cr_assert_lt(node_now(), deadline, "node %d never lost its paused leader", node);
    int got[UNKNOWN + 1] = {0};
    double took = stop_with_writes_in_flight(&r, node, l, got);
    cr_log_info("a node without a leader, stopped with %d writes in flight, answered %d "
                "TIMEOUT, %d with a definite error, %d OK, in %.1f s", PIPELINED,
                got[UNKNOWN], got[REFUSED], got[ACKED], took);
    cr_assert_eq(got[REFUSED], PIPELINED, "writes in no log were not all refused");
    signal_others(&r, node, SIGCONT);
    rep_restart(&r, node);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        ledger_check(&r, i, l);
    free(l);
    rep_cleanup(&r);
}
