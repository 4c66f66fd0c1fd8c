/* test_kvtorture.c: the kvtorture tool end to end against real kvnodes: a single node with
   kill -9 and restart (register and list-append workloads), and a 3-node cluster with
   partitions, check clean; saved histories with a violation exit 1; bad usage and missing
   configs exit as documented. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char out[1 << 16];

/* Runs kvtorture with args; stdout+stderr into out; returns the exit code. */
static int kvtorture(const char *args)
{
    const char *bin = getenv("KVTORTURE");
    cr_assert(bin, "KVTORTURE must name the built kvtorture (meson sets it)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *f = popen(cmd, "r");
    cr_assert(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    int status = pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(kvtorture, single_node_with_kill_and_restart_checks_clean, .timeout = 100)
{
    int rc = kvtorture("--single --duration 6 --interval 1 --nemesis kill --workers 4 --seed 7");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "kill node 0"), "the nemesis killed nothing:\n%s", out);
    cr_assert(strstr(out, "no acknowledged write lost"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 7)"), "%s", out);
    cr_assert_null(strstr(out, "NOT LINEARIZABLE"), "%s", out);
}

Test(kvtorture, cluster_with_partitions_through_the_fault_files_checks_clean, .timeout = 100)
{
    int rc = kvtorture("--duration 10 --interval 2 --nemesis partition --workers 4 --seed 11");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "partition: node"), "the nemesis cut nothing:\n%s", out);
    cr_assert(strstr(out, "healed node"), "%s", out);
    cr_assert(strstr(out, "3 node(s) up (replicated)"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 11)"), "%s", out);
}

/* Issue 19: increments of one counter by atomicCommit in client sessions, retried through
   kills and partitions with their sequence numbers: the final count is every acknowledged
   increment (plus at most the unknown ones), none twice. */
Test(kvtorture, counter_increments_in_sessions_count_once_under_kill_and_partition,
     .timeout = 100)
{
    int rc = kvtorture("--workload counter --duration 10 --interval 2 --nemesis kill,partition "
                       "--workers 4 --seed 13");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 13, counter workload)"), "%s", out);
    const char *at = strstr(out, "counter: ");
    cr_assert(at && atol(at + 9) > 100, "hardly any increments: %s", out);
}

Test(kvtorture, a_saved_history_with_a_stale_read_is_a_violation_with_its_window)
{
    char path[] = "/tmp/kvt-stale-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("# process type outcome key value expected invoke_ns complete_ns node\n"
          "0 write ok 3 11 0 1000 2000 0\n"
          "1 write ok 3 12 0 3000 4000 0\n"
          "2 read ok 3 11 0 5000 6000 0\n", f);
    fclose(f);
    int rc = kvtorture(path[0] ? "--check" : "");
    cr_assert_eq(rc, 2, "--check needs a file");
    char args[128];
    snprintf(args, sizeof args, "--check %s", path);
    rc = kvtorture(args);
    remove(path);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "key 3: NOT LINEARIZABLE"), "%s", out);
    cr_assert(strstr(out, "by blocks"), "unique values: decided directly\n%s", out);
    cr_assert(strstr(out, "writes A and B must each come first"), "%s", out);
    cr_assert(strstr(out, "the search agrees"), "%s", out);
    cr_assert(strstr(out, "the register holds 12"), "%s", out);
    cr_assert(strstr(out, "!  p2"), "the stale read is marked:\n%s", out);
    cr_assert(strstr(out, "VIOLATION"), "%s", out);
}

/* A history the direct checker declines (a value written twice) and the search cannot
   finish within its bound: unknown, exit 4, never clean. */
Test(kvtorture, a_saved_history_left_undecided_is_unknown_and_exits_4)
{
    char path[] = "/tmp/kvt-unknown-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("# process type outcome key value expected invoke_ns complete_ns node\n", f);
    for (int i = 0; i < 12; i++)   /* twelve concurrent writes, one value twice */
        fprintf(f, "%d write ok 0 %d 0 1000 2000 0\n", i, i == 11 ? 1 : i + 1);
    fputs("12 read ok 0 77 0 3000 4000 0\n", f);   /* no order explains it: all must be tried */
    fclose(f);
    char args[160];
    snprintf(args, sizeof args, "--check %s --search-steps 50", path);
    int rc = kvtorture(args);
    cr_assert_eq(rc, 4, "%s", out);
    cr_assert(strstr(out, "key 0: unknown"), "%s", out);
    cr_assert(strstr(out, "step bound"), "%s", out);
    cr_assert(strstr(out, "UNKNOWN ("), "%s", out);
    cr_assert_null(strstr(out, "CLEAN"), "%s", out);
    /* With room to finish, the same history is a violation. */
    snprintf(args, sizeof args, "--check %s", path);
    rc = kvtorture(args);
    remove(path);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "search, "), "%s", out);
}

Test(kvtorture, list_append_txns_on_a_single_node_with_kill_check_clean, .timeout = 100)
{
    int rc = kvtorture("--single --workload append --duration 6 --interval 1 --nemesis kill "
                       "--workers 4 --seed 9");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "kill node 0"), "the nemesis killed nothing:\n%s", out);
    cr_assert(strstr(out, " 0 cycles"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 9, append workload)"), "%s", out);
    unsigned ok = 0;
    const char *row = strstr(out, "\ntxn ");
    cr_assert(row && sscanf(row, " txn %u", &ok) == 1 && ok > 0, "no txn committed:\n%s", out);
}

Test(kvtorture, a_saved_append_history_with_write_skew_is_a_g2_violation)
{
    char path[] = "/tmp/kvt-skew-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("# kvtorture append history: hand-written\n"
          "0 ok 0 10 0 r1= r2= a1+1\n"
          "1 ok 0 10 0 r1= r2= a2+2\n"
          "2 ok 20 30 0 r1=1 r2=2\n", f);
    fclose(f);
    char args[128];
    snprintf(args, sizeof args, "--check %s", path);
    int rc = kvtorture(args);
    remove(path);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "anomaly G2: a cycle"), "%s", out);
    cr_assert(strstr(out, "-rw->"), "%s", out);
    cr_assert(strstr(out, "VIOLATION"), "%s", out);
}

Test(kvtorture, bad_usage_exits_2)
{
    cr_assert_eq(kvtorture("--nemesis frobnicate"), 2, "%s", out);
    cr_assert_eq(kvtorture("--workers 0"), 2, "%s", out);
    cr_assert_eq(kvtorture("stray"), 2, "%s", out);
    cr_assert_eq(kvtorture("--workload bank"), 2, "%s", out);
    cr_assert_eq(kvtorture("--key-dist zipf:0"), 2, "%s", out);
    cr_assert_eq(kvtorture("--key-dist pareto"), 2, "%s", out);
    cr_assert_eq(kvtorture("--keys 100001"), 2, "%s", out);
    cr_assert_eq(kvtorture("--workload append --keys 1001"), 2, "%s", out);
}

Test(kvtorture, missing_configs_exit_3)
{
    cr_assert_eq(kvtorture("--config-dir /nonexistent --duration 1"), 3, "%s", out);
    cr_assert_eq(kvtorture("--single --config-dir /nonexistent --duration 1"), 3, "%s", out);
}

/* Without its shim the loader would ignore LD_PRELOAD and a power cut would undo nothing. */
Test(kvtorture, power_cut_without_its_shim_is_a_setup_failure)
{
    cr_assert_eq(setenv("KVT_POWERCUT_LIB", "/nonexistent/kvt_powercut.so", 1), 0);
    int rc = kvtorture("--nemesis kill,power-cut --duration 1");
    unsetenv("KVT_POWERCUT_LIB");
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "power-cut needs its shim /nonexistent/kvt_powercut.so"), "%s", out);
    cr_assert_null(strstr(out, "node(s) up"), "no node starts:\n%s", out);
}

/* Reads a whole file into buf; its length (0 when missing). */
static size_t slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return n;
}

/* Thousands of Zipf-skewed keys, every one checked (the cold ones by their final reads
   alone), and the one-page summary with its data. */
Test(kvtorture, thousands_of_skewed_keys_all_checked_with_a_summary, .timeout = 100)
{
    char sdir[] = "/tmp/kvt-summary-XXXXXX";
    cr_assert(mkdtemp(sdir));
    char args[256];
    snprintf(args, sizeof args, "--single --duration 7 --interval 1 --nemesis kill,pause "
                                "--workers 4 --keys 3000 --key-dist zipf:1.1 --seed 13 "
                                "--summary %s", sdir);
    int rc = kvtorture(args);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "check: 3000 keys: 3000 linearizable, 0 not, 0 unknown"), "%s", out);
    cr_assert(strstr(out, "ops per key: min 0,"), "Zipf leaves cold keys:\n%s", out);
    cr_assert(strstr(out, "CLEAN (seed 13): all 3000 keys checked"), "%s", out);
    cr_assert_null(strstr(out, "key 17: linearizable"), "3000 keys are not listed one by one");
    static char page[1 << 14];
    char path[128];
    snprintf(path, sizeof path, "%s/summary.txt", sdir);
    cr_assert_gt(slurp(path, page, sizeof page), 0);
    remove(path);
    cr_assert(strstr(page, "3000 keys (zipf)"), "%s", page);
    cr_assert(strstr(page, "faults injected: "), "%s", page);
    cr_assert(strstr(page, "kill "), "%s", page);
    cr_assert(strstr(page, "CLEAN (seed 13)"), "%s", page);
    cr_assert(strstr(page, "checker time"), "%s", page);
    cr_assert(strstr(page, "availability per 1 s"), "%s", page);
    snprintf(path, sizeof path, "%s/availability.tsv", sdir);
    cr_assert_gt(slurp(path, page, sizeof page), 0);
    remove(path);
    size_t rows = 0;
    for (const char *p = page; (p = strchr(p, '\n')); p++)
        rows++;
    cr_assert_eq(rows, 8, "a header and one row per second:\n%s", page);
    snprintf(path, sizeof path, "%s/faults.tsv", sdir);
    cr_assert_gt(slurp(path, page, sizeof page), 0);
    remove(path);
    cr_assert(strstr(page, "\tkill\t0\t") || strstr(page, "\tpause\t0\t"), "%s", page);
    rmdir(sdir);
}
/* A kvnode wrapper script in a temp dir: `body` runs first (with $dir, $KVNODE and the node's
   arguments in "$@"), then the real kvnode replaces the shell (same pid). */
static void wrapper(char *dir, size_t size, const char *body)
{
    snprintf(dir, size, "/tmp/kvt-wrap-XXXXXX");
    cr_assert(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/kvnode", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "#!/bin/sh\ndir=%s\n%s\nexec \"$KVNODE\" \"$@\"\n", dir, body);
    fclose(f);
    cr_assert_eq(chmod(path, 0755), 0);
}

static void wrapper_remove(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static int kvtorture_wrapped(const char *dir, const char *args)
{
    char all[512];
    snprintf(all, sizeof all, "--kvnode %s/kvnode %s", dir, args);
    return kvtorture(all);
}

Test(kvtorture, a_node_that_aborts_fails_the_run_with_its_status_and_log, .timeout = 100)
{
    char dir[64];
    /* node 1 aborts 3 s after its first start (the heal restarts it for the final reads) */
    wrapper(dir, sizeof dir, "case \"$*\" in *node1/*) [ -e $dir/once ] || "
                             "{ touch $dir/once; (sleep 3; kill -ABRT $$) & } ;; esac");
    int rc = kvtorture_wrapped(dir, "--duration 6 --nemesis none --workers 4 --seed 5");
    wrapper_remove(dir);
    cr_assert_eq(rc, 6, "%s", out);
    cr_assert(strstr(out, "node failed: node 1 exited on signal 6"), "%s", out);
    cr_assert(strstr(out, "node 1 log ("), "the log tail is shown:\n%s", out);
    cr_assert(strstr(out, "kvtorture: NODE FAILED (seed 5)"), "%s", out);
    cr_assert_null(strstr(out, "CLEAN"), "%s", out);
}

Test(kvtorture, a_node_that_logs_an_error_fails_the_run, .timeout = 100)
{
    char dir[64];
    wrapper(dir, sizeof dir, "case \"$*\" in *node2/*) echo 'x ERROR 2 planted: a test line' >&2 ;; "
                             "esac");
    int rc = kvtorture_wrapped(dir, "--duration 3 --nemesis none --workers 2 --seed 6");
    wrapper_remove(dir);
    cr_assert_eq(rc, 6, "%s", out);
    cr_assert(strstr(out, "node failed: node 2 logged: x ERROR 2 planted: a test line"), "%s",
              out);
}

Test(kvtorture, a_node_that_never_catches_up_is_a_liveness_failure_not_a_violation,
     .timeout = 100)
{
    char dir[64];
    /* node 2 stops (SIGSTOP) 3 s after it starts and is never continued */
    wrapper(dir, sizeof dir, "case \"$*\" in *node2/*) (sleep 3; kill -STOP $$) & ;; esac");
    int rc = kvtorture_wrapped(dir, "--duration 6 --nemesis none --workers 4 --seed 8 "
                                    "--catch-up 3");
    wrapper_remove(dir);
    cr_assert_eq(rc, 5, "%s", out);
    cr_assert(strstr(out, "liveness: node 2 does not answer for 3 s after the last heal"), "%s",
              out);
    cr_assert(strstr(out, "agree on 2 of 3 node(s)"), "%s", out);
    cr_assert_null(strstr(out, "nodes disagree"), "%s", out);
    cr_assert(strstr(out, "kvtorture: LIVENESS FAILURE (seed 8)"), "%s", out);
}


Test(kvtorture, power_cuts_of_a_cluster_lose_no_acknowledged_write, .timeout = 100)
{
    int rc = kvtorture("--duration 14 --interval 4 --nemesis power-cut --workers 4 --seed 12");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "power cut: every node"), "the nemesis cut nothing:\n%s", out);
    cr_assert(strstr(out, "bytes of unsynced writes lost"), "%s", out);
    cr_assert(strstr(out, "keys through node"), "every key is read after a cut:\n%s", out);
    cr_assert(strstr(out, "restarts"), "the old leader restarts last:\n%s", out);
    cr_assert(strstr(out, "0 out of order; 0 versions named by two"), "%s", out);
    cr_assert(strstr(out, "no acknowledged write lost"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 12)"), "%s", out);
}

Test(kvtorture, an_isolated_leader_that_still_believes_it_leads_serves_no_stale_read,
     .timeout = 100)
{
    int rc = kvtorture("--duration 14 --interval 4 --nemesis isolate-leader --workers 6 "
                       "--seed 13");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "resumes, still cut off"), "no overlap was made:\n%s", out);
    cr_assert(strstr(out, "0 out of order; 0 versions named by two"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 13)"), "%s", out);
}

/* Disk faults through the fault file: a failed log sync makes the node fail stop (it says so,
   and the nemesis restarts it), a full disk refuses writes until healed; the node's ERROR
   lines under the fault are expected, and every answer it gave must still check. */
Test(kvtorture, a_failed_disk_and_a_full_disk_on_a_single_node_check_clean, .timeout = 100)
{
    int rc = kvtorture("--single --duration 16 --interval 1 --nemesis disk-error,disk-full "
                       "--workers 4 --keys 20 --seed 21");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "disk-error node 0"), "%s", out);
    cr_assert(strstr(out, "node 0 reports its storage failed: restarting it"), "%s", out);
    cr_assert(strstr(out, "disk-full node 0"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 21)"), "%s", out);
    cr_assert_null(strstr(out, "node failed"), "%s", out);
    unsigned ok, fail;
    const char *row = strstr(out, "\nwrite ");
    cr_assert(row && sscanf(row, " write %u %u", &ok, &fail) == 2, "%s", out);
    cr_assert_gt(fail, 0, "a failed or full disk refuses writes:\n%s", out);
}

/* Wall clocks stepped 10 s - 2 min either way through the fault files (the leader's moves the
   MVCC window: a step forward expires the versions clients read at): each step is confirmed by
   ping's timestamp, and every answer must still check. */
Test(kvtorture, clock_jumps_on_a_cluster_check_clean, .timeout = 100)
{
    int rc = kvtorture("--duration 12 --interval 1 --nemesis clock-jump --workers 4 --keys 20 "
                       "--seed 23");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "its wall clock +"), "no step forward:\n%s", out);
    cr_assert(strstr(out, "its wall clock -"), "no step back:\n%s", out);
    cr_assert(strstr(out, "(leader): its wall clock"), "the leader's clock never moved:\n%s", out);
    cr_assert_null(strstr(out, "clock reads"), "a step did not take:\n%s", out);
    cr_assert_null(strstr(out, "unconfirmed"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 23)"), "%s", out);
}

/* Slow, thin links through the fault files (one node's links to every peer, both ways, 10 -
   250 ms late and capped at 1 - 16 Mbit/s): each confirmed by every node's log, and every
   answer must still check. */
Test(kvtorture, slow_links_on_a_cluster_check_clean, .timeout = 100)
{
    int rc = kvtorture("--duration 14 --interval 2 --nemesis slow-link --workers 4 --keys 20 "
                       "--seed 25");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "slow-link node"), "the nemesis slowed nothing:\n%s", out);
    cr_assert(strstr(out, " ms late, "), "%s", out);
    cr_assert_null(strstr(out, "unconfirmed"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 25)"), "%s", out);
}

/* A node that ignores its fault file (fault injection turned off in its config by a wrapper):
   the clock step never shows in ping's timestamp, so the run says the fault was not injected
   and exits 3 (SETUP FAILURE), never CLEAN, though every key checks. */
Test(kvtorture, a_fault_the_nemesis_could_not_inject_is_no_clean_run, .timeout = 100)
{
    char dir[64];
    wrapper(dir, sizeof dir, "sed -i 's/\"fault_injection\": *true/\"fault_injection\": false/' \"$2\"");
    int rc = kvtorture_wrapped(dir, "--single --duration 8 --interval 1 --nemesis clock-jump "
                                    "--workers 2 --keys 10 --seed 9");
    wrapper_remove(dir);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "clock-jump node 0"), "%s", out);
    cr_assert(strstr(out, "s off, not the"), "%s", out);
    cr_assert(strstr(out, "kvtorture: SETUP FAILURE (seed 9): all 10 keys checked; 1 fault(s) "
                          "not injected"), "%s", out);
    cr_assert_null(strstr(out, "CLEAN"), "%s", out);
}

/* The same for a slow link: nodes that ignore their fault files never log that they shape
   their links, so the run is no clean one. */
Test(kvtorture, a_slow_link_the_nodes_never_confirmed_is_no_clean_run, .timeout = 100)
{
    char dir[64];
    wrapper(dir, sizeof dir, "sed -i 's/\"fault_injection\": *true/\"fault_injection\": false/' \"$2\"");
    int rc = kvtorture_wrapped(dir, "--duration 8 --interval 1 --nemesis slow-link --workers 2 "
                                    "--keys 10 --seed 9");
    wrapper_remove(dir);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "never said it shapes its links: the slow link is unconfirmed"), "%s",
              out);
    cr_assert(strstr(out, "kvtorture: SETUP FAILURE (seed 9): all 10 keys checked;"), "%s", out);
    cr_assert_null(strstr(out, "CLEAN"), "%s", out);
}

/* Issue 17: the membership nemesis (a node removed at the leader, wiped, added again as a
   learner under a new member id at its address, promoted) and restart-wipe as an operator
   does it (the wiped node started under its old id must be refused: member identity), under
   the load; every node a voter again at the end and every key clean. */
Test(kvtorture, membership_changes_and_wiped_nodes_readded_check_clean, .timeout = 120)
{
    int rc = kvtorture("--duration 14 --interval 2 --nemesis membership,restart-wipe "
                       "--workers 4 --seed 27");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "promoted: a voter again"), "no member came back:\n%s", out);
    cr_assert(strstr(out, " is refused"), "no wiped node was refused:\n%s", out);
    cr_assert_null(strstr(out, "NOT restored"), "%s", out);
    cr_assert(strstr(out, "CLEAN (seed 27)"), "%s", out);
}

/* Nodes whose member identity is turned off (a wrapper edits their configs): the wiped node
   started under its old id is taken back, not refused; the run says so and is no clean one. */
Test(kvtorture, membership_a_wiped_node_not_refused_is_no_clean_run, .timeout = 120)
{
    char dir[64];
    wrapper(dir, sizeof dir, "sed -i 's/\"member_identity\": *true/\"member_identity\": false/' \"$2\"");
    int rc = kvtorture_wrapped(dir, "--duration 12 --interval 2 --nemesis restart-wipe --workers 2 "
                                    "--keys 10 --seed 29");
    wrapper_remove(dir);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "was NOT refused"), "%s", out);
    cr_assert(strstr(out, "kvtorture: SETUP FAILURE (seed 29)"), "%s", out);
    cr_assert_null(strstr(out, "CLEAN"), "%s", out);
}

/* A node added again that cannot start (the wrapper fails every join config): the cluster
   stays a voter short, the heal cannot restore it, and the run says so and fails. */
Test(kvtorture, membership_the_heal_cannot_restore_fails_the_run, .timeout = 120)
{
    char dir[64];
    wrapper(dir, sizeof dir, "grep -q '\"join\"' \"$2\" && exit 1");
    int rc = kvtorture_wrapped(dir, "--duration 12 --interval 2 --nemesis membership --workers 2 "
                                    "--keys 10 --seed 31");
    wrapper_remove(dir);
    cr_assert_neq(rc, 0, "%s", out);
    cr_assert(strstr(out, "membership: NOT restored at the end"), "%s", out);
    cr_assert(strstr(out, "the membership was not restored"), "%s", out);
    cr_assert_null(strstr(out, "CLEAN"), "%s", out);
}
