/* test_rep_storage.c: storage faults in a real 3-node cluster. A replica whose log or newest
   snapshot is corrupt refuses to start, saying what is wrong and how to rebuild it, while the
   cluster keeps serving; rebuilt empty, it catches up. A leader or follower whose disk fails
   (a sync's EIO) or fills (ENOSPC) stops taking writes (the leader's write in flight answers
   TIMEOUT, later ones UNAVAILABLE), says so in its status, and the others go on; restarted on
   a working disk it catches up. A leader below storage.min_free_bytes (a real small tmpfs)
   refuses writes with NO_SPACE, serves reads, and takes writes again once space is freed. A
   node stopped (SIGTERM) with writes in flight answers each truthfully: TIMEOUT for one it
   proposed, SHUTTING_DOWN (at once) for one that waited for a leader. Every answer is checked
   against the final state: acknowledged writes are there, definitely refused ones are not. */
#include "rep_member.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
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
    /* Rebuilt as the message says: removed, added again as a new member with an empty data
       dir; it catches up. */
    cr_assert(strstr(err, "kvctl member remove"), "the rebuild names no removal:\n%s", err);
    bad = rep_replace(&r, bad);
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
    bad = rep_replace(&r, bad); /* as the message says: a new member, an empty data dir */
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

/* What an operator sees: `kvctl -e NODE status` prints a line with want. */
static void kvctl_status_says(struct rep *r, int node, const char *want)
{
    const char *bin = getenv("KVCTL");
    cr_assert(bin, "KVCTL must name the built kvctl");
    char cmd[600], out[4096];
    snprintf(cmd, sizeof cmd, "'%s' -e %s status 2>&1", bin, r->nodes[node].addr);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    pclose(f);
    cr_assert(strstr(out, want), "kvctl status of node %d does not say '%s':\n%s", node, want,
              out);
}

/* The leader's disk fails (fault, e.g. a sync's EIO, or writes that find it full): its write
   in flight answers TIMEOUT or UNAVAILABLE, later ones UNAVAILABLE at once. */
static void leader_stops(struct rep *r, int leader, struct ledger *l)
{
    double deadline = node_now() + REP_WAIT_S;
    int code;
    while ((code = ledger_write(r, leader, l)) == 0)
        cr_assert_lt(node_now(), deadline, "the leader never noticed its disk");
    /* The write whose sync failed may be in the others' logs: unknown, never a lie. */
    cr_assert(code == ErrorCode_TIMEOUT || code == ErrorCode_UNAVAILABLE, "code %d", code);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ledger_write(r, leader, l), ErrorCode_UNAVAILABLE);
}

/* A follower's disk fails: every write through the leader is still acknowledged (it and the
   other follower are a majority) until the follower says it failed; then the follower
   refuses writes sent to it, UNAVAILABLE (a client moves on to another node). */
static void follower_stops(struct rep *r, int leader, int follower, struct ledger *l)
{
    double deadline = node_now() + REP_WAIT_S;
    char why[600];
    while (!storage_failed(r, follower, why, sizeof why)) {
        cr_assert_eq(ledger_write(r, leader, l), 0, "a write failed while a follower's disk did");
        cr_assert_lt(node_now(), deadline, "the follower never noticed its disk");
    }
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ledger_write(r, follower, l), ErrorCode_UNAVAILABLE);
}

/* One node's storage fails by fault (which: 0 the leader, 1 a follower); it stops taking writes
   and says why (why_text) in its status, the other two go on; restarted on a working disk it
   catches up, and every answer is checked on all three. Small segments (not zero-filled
   ahead) so that a full disk shows at the next segment. */
static void one_disk_fails(int which, const char *fault, const char *why_text)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"wal_segment_bytes\": 16384}");
    int leader = rep_wait_leader(&r);
    int bad = (leader + which) % REP_NODES;
    struct ledger *l = calloc(1, sizeof *l);
    cr_assert(l);
    write_acked(&r, leader, l, 20);
    rep_faults(&r, bad, fault);
    if (bad == leader)
        leader_stops(&r, leader, l);
    else
        follower_stops(&r, leader, bad, l);
    char why[600];
    cr_assert(storage_failed(&r, bad, why, sizeof why), "its status does not say it failed");
    cr_assert(strstr(why, why_text), "%s", why);
    kvctl_status_says(&r, bad, "\nstorage failed: ");
    kvctl_status_says(&r, bad, why_text);
    /* The other two (electing a leader among themselves if need be) take writes. */
    int other = (bad + 1) % REP_NODES;
    double deadline = node_now() + REP_WAIT_S;
    for (int acked = 0; acked < 20;) {
        acked += ledger_write(&r, other, l) == 0;
        cr_assert_lt(node_now(), deadline, "the others did not go on");
    }
    rep_kill(&r, bad);
    rep_faults(&r, bad, "");
    rep_restart(&r, bad);
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        ledger_check(&r, i, l);
    cr_assert(!storage_failed(&r, bad, why, sizeof why), "a restart on a working disk clears it");
    free(l);
    rep_cleanup(&r);
}

Test(rep_storage, a_leader_whose_disk_fails_stops_and_the_others_go_on)
{
    one_disk_fails(0, "disk_fail=sync:1:EIO\n", "Input/output error");
}

/* In a cluster a full disk stops the node as a failed disk does (HACKING.md, "A full disk"):
   the entries it could not write may be on the others already (the leader sends as it
   writes), so it cannot cut them back and answer NO_SPACE. */
Test(rep_storage, a_leader_whose_disk_fills_stops_and_the_others_go_on)
{
    one_disk_fails(0, "disk_fail=write:1:ENOSPC\n", "No space left on device");
}

Test(rep_storage, a_follower_whose_disk_fills_stops_and_the_others_go_on)
{
    one_disk_fails(1, "disk_fail=write:1:ENOSPC\n", "No space left on device");
}

Test(rep_storage, a_follower_whose_sync_fails_stops_and_the_others_go_on)
{
    one_disk_fails(1, "disk_fail=sync:1:EIO\n", "Input/output error");
}

/* Data dirs mounted on a small tmpfs by the test below, unmounted by its fini. */
static char mounted[REP_NODES][300];

static void unmount_all(void)
{
    for (int i = 0; i < REP_NODES; i++)
        if (mounted[i][0] && umount2(mounted[i], MNT_DETACH) != 0)
            fprintf(stderr, "umount %s: %s\n", mounted[i], strerror(errno));
    memset(mounted, 0, sizeof mounted);
}

/* Moves a stopped node's data dir onto a tmpfs of `size`; false when mount is not permitted. */
static bool data_on_tmpfs(struct rep *r, int node, const char *size)
{
    char data[300], cmd[1000];
    snprintf(data, sizeof data, "%s/data", r->nodes[node].dir);
    snprintf(cmd, sizeof cmd, "mv '%s' '%s.old' && mkdir '%s'", data, data, data);
    cr_assert_eq(system(cmd), 0);
    char opts[32];
    snprintf(opts, sizeof opts, "size=%s", size);
    if (mount("tmpfs", data, "tmpfs", 0, opts) != 0)
        return false;
    snprintf(mounted[node], sizeof mounted[node], "%s", data);
    snprintf(cmd, sizeof cmd, "cp -a '%s.old/.' '%s/' && rm -rf '%s.old'", data, data, data);
    cr_assert_eq(system(cmd), 0);
    return true;
}

/* Fills node's data dir until `leave` bytes are free; returns the ballast file's path. */
static void fill_disk(struct rep *r, int node, uint64_t leave, char *path, size_t size)
{
    snprintf(path, size, "%s/data/ballast", r->nodes[node].dir);
    struct statvfs st;
    char data[300];
    snprintf(data, sizeof data, "%s/data", r->nodes[node].dir);
    cr_assert_eq(statvfs(data, &st), 0);
    uint64_t free_bytes = (uint64_t)st.f_bavail * st.f_frsize;
    cr_assert_gt(free_bytes, leave);
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s", path);
    static char chunk[64 << 10];
    memset(chunk, 'b', sizeof chunk);
    for (uint64_t left = free_bytes - leave; left > 0;) {
        size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
        cr_assert_eq(fwrite(chunk, 1, n, f), n);
        left -= n;
    }
    cr_assert_eq(fclose(f), 0);
}

/* etcd's NOSPACE alarm, in a cluster: the leader's disk falls below storage.min_free_bytes
   (a real file system: each data dir on a small tmpfs, the leader's filled by a ballast
   file). Writes sent to it, and to a follower that forwards them to it, are refused with
   NO_SPACE, a definite answer (in no log); reads are served; once the ballast is removed
   writes are taken again, without a restart. Needs mount (root in CI); skipped, and said so,
   where it is not permitted. */
Test(rep_storage, a_leader_low_on_space_refuses_writes_with_no_space_until_it_is_freed,
     .timeout = 120, .fini = unmount_all)
{
    struct rep r;
    rep_start(&r, "\"storage\": {\"min_free_bytes\": 8388608, \"wal_segment_bytes\": 1048576}");
    for (int i = 0; i < REP_NODES; i++) {
        cr_assert_eq(node_stop(&r.nodes[i], SIGTERM), 0);
        if (!data_on_tmpfs(&r, i, "32m")) {
            int e = errno;
            unmount_all();
            rep_cleanup(&r);
            cr_skip_test("mount tmpfs: %s (needs root): the cluster's NO_SPACE case was not run",
                         strerror(e));
        }
        rep_restart(&r, i);
    }
    int leader = rep_wait_leader(&r);
    int follower = (leader + 1) % REP_NODES;
    struct ledger *l = calloc(1, sizeof *l);
    cr_assert(l);
    write_acked(&r, leader, l, 20);
    char ballast[400];
    fill_disk(&r, leader, 4 << 20, ballast, sizeof ballast);
    double deadline = node_now() + REP_WAIT_S;
    int code;
    while ((code = ledger_write(&r, leader, l)) == 0) { /* free space is measured each second */
        cr_assert_lt(node_now(), deadline, "the leader never saw its disk low");
        usleep(50000); /* polling with a deadline */
    }
    cr_assert_eq(code, ErrorCode_NO_SPACE);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(ledger_write(&r, leader, l), ErrorCode_NO_SPACE);
        cr_assert_eq(ledger_write(&r, follower, l), ErrorCode_NO_SPACE, "through a follower");
    }
    NodeInfo info;
    cr_assert_eq(rep_info(&r, leader, &info), 0);
    cr_assert(info.has_no_space && info.no_space, "its status does not say its disk is low");
    NodeInfo_free(&info);
    kvctl_status_says(&r, leader, "\nstorage no space\n");
    ledger_check(&r, leader, l); /* reads (linearizable, through the leader) are served */
    cr_assert_eq(unlink(ballast), 0);
    deadline = node_now() + REP_WAIT_S;
    while (ledger_write(&r, follower, l) != 0) {
        cr_assert_lt(node_now(), deadline, "writes never resumed after space was freed");
        usleep(50000); /* polling with a deadline */
    }
    rep_wait_converged(&r);
    for (int i = 0; i < REP_NODES; i++)
        ledger_check(&r, i, l);
    kvctl_status_says(&r, leader, "\nstorage ok\n");
    free(l);
    for (int i = 0; i < REP_NODES; i++)
        rep_kill(&r, i);
    unmount_all();
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
        test_send_ok(c, TEST_METHOD(setKey), ++r->seqid, &q);
        SetRequest_free(&q);
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
        int rc = test_recv(c, TEST_METHOD(setKey), seq0 + k, &res, NULL);
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
    /* Its one event loop reads a pipeline in pieces, one per turn while the socket holds more;
       each call answered on another connection is a turn at least: ten read the ~10 KB. */
    for (int i = 0; i < 10; i++) {
        NodeInfo info;
        cr_assert_eq(rep_info(r, node, &info), 0);
        NodeInfo_free(&info);
    }
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
    cr_assert_eq(got[UNKNOWN] + got[REFUSED], PIPELINED, "the stop left writes unanswered");
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
