/* options.c: kvtorture's command line. */
#include "kvtorture.h"
#include "lin.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef KVT_KVNODE_PATH
#define KVT_KVNODE_PATH "kvnode"
#endif
#ifndef KVT_CONFIG_DIR
#define KVT_CONFIG_DIR "config"
#endif

static const char usage_text[] =
    "usage: kvtorture [--single] [--duration S] [--seed N] [--nemesis LIST] [--workers W]\n"
    "                 [--keys K] [--key-dist uniform|zipf[:S]] [--history FILE]\n"
    "                 [--timeout-ms MS] [--interval S] [--kvnode PATH] [--config-dir DIR]\n"
    "                 [--keep] [--workload register|append|counter] [--summary DIR]\n"
    "                 [--catch-up S]\n"
    "       kvtorture --check HISTORY   (re-check a saved history of either workload)\n"
    "  Runs W workers (default 8) for S seconds (default 30) against real kvnode processes\n"
    "  (3 from DIR/node*.json, or one from DIR/single.json with --single) on K keys (5; up\n"
    "  to 100000), each op's key uniform or Zipf-skewed (weight 1/(k+1)^S, S default 1),\n"
    "  injects faults from LIST (kill, pause, restart-wipe, partition, power-cut,\n"
    "  isolate-leader, disk-error, disk-full, clock-jump, slow-link, membership, all, none;\n"
    "  default none)\n"
    "  every ~S seconds (--interval, default 5), rotating through them, then checks every\n"
    "  key for linearizability and the final state. Ops stream to disk during the run, so\n"
    "  memory stays bounded however long it runs; --summary writes a one-page summary\n"
    "  (ops, faults by kind, availability per minute, checker time, verdict) into DIR.\n"
    "  disk-error fails a node's log syncs, disk-full its growing writes, clock-jump steps\n"
    "  its wall clock 10 s - 2 min either way (the leader's moves the MVCC window), each\n"
    "  through the node's fault file and healed before the next fault.\n"
    "  --workload append: txns read 1-3 keys holding lists and append unique elements to\n"
    "  1-2 of them; checked for strict serializability (Elle's anomalies: G0, G1a, G1b, G1c,\n"
    "  G2, their real-time variants, lost updates). K is then the active key window (<= 1000).\n"
    "  power-cut: every node is killed at once and loses what it wrote since its last fsync\n"
    "  (a shim preloaded into the nodes keeps undo logs); they restart, the old leader last,\n"
    "  and every key is read before the load resumes. isolate-leader: the leader is paused\n"
    "  and cut off, the others elect, and it resumes still cut off, believing it leads.\n"
    "  membership: a node (at random or the leader) is removed at the leader, runs on a\n"
    "  moment removed, is stopped and wiped, added again under a new member id as a learner\n"
    "  (deployment.join at its address), started and promoted. In a cluster restart-wipe\n"
    "  restarts the wiped node under its old id, checks it is refused (member identity is\n"
    "  on in every node's config), then removes it and adds it again the same way. After the\n"
    "  heal every node must be a voter again, or the run fails.\n"
    "  Reads and read-only txns go to a random node each time; every answer that names a\n"
    "  version is checked against the version order.\n"
    "  --workload counter: every worker increments one counter by atomicCommit in a client\n"
    "  session, retrying a commit whose outcome is open with the same sequence number; the\n"
    "  final count must lie between the acknowledged increments and those plus the unknown\n"
    "  ones, and no count may be acknowledged twice.\n"
    "  Nodes log at warn; KVT_LOG_LEVEL=info (or debug) raises it. Their logs and data stay\n"
    "  in the temp dir when a run is not clean, and always with --keep.\n"
    "  Every node must reach one applied index within --catch-up S seconds (default 30) of\n"
    "  the last heal. A node that exits unbidden, or logs an assertion, a sanitizer report or\n"
    "  an ERROR line, fails the run.\n"
    "  Registers with unique values are checked directly; any other history by a bounded\n"
    "  search (--search-steps N per key, default 2e8).\n"
    "  Exit 0 clean, 1 violation, 2 usage, 3 setup failure (also: a fault the nemesis could\n"
    "  not inject), 4 unknown (some key not checked to a verdict: never reported clean), 5\n"
    "  liveness failure (a node did not catch up), 6 a node failed; a violation always wins,\n"
    "  else the lowest code.\n";

const char *kvt_fault_name(enum kvt_fault f)
{
    static const char *const names[KVT_FAULTS] = {"kill", "pause", "restart-wipe", "partition",
                                                  "power-cut", "isolate-leader", "disk-error",
                                                  "disk-full", "clock-jump", "slow-link",
                                                  "membership"};
    return (unsigned)f < KVT_FAULTS ? names[f] : "?";
}

static int parse_faults(struct kvt_options *o, const char *list)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    memset(o->faults, 0, sizeof o->faults);
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int f = 0;
        while (f < KVT_FAULTS && strcmp(w, kvt_fault_name((enum kvt_fault)f)) != 0)
            f++;
        if (f < KVT_FAULTS)
            o->faults[f] = true;
        else if (strcmp(w, "all") == 0)
            memset(o->faults, 1, sizeof o->faults);
        else if (strcmp(w, "none") != 0) {
            fprintf(stderr, "kvtorture: unknown nemesis '%s'\n", w);
            return -1;
        }
    }
    return 0;
}

static int parse_workload(struct kvt_options *o, const char *name)
{
    if (strcmp(name, "register") == 0)
        o->workload = KVT_WORKLOAD_REGISTER;
    else if (strcmp(name, "append") == 0)
        o->workload = KVT_WORKLOAD_APPEND;
    else if (strcmp(name, "counter") == 0)
        o->workload = KVT_WORKLOAD_COUNTER;
    else {
        fprintf(stderr, "kvtorture: unknown workload '%s'\n", name);
        return -1;
    }
    return 0;
}

/* uniform, zipf, or zipf:S with S in (0, 5]. */
static int parse_key_dist(struct kvt_options *o, const char *text)
{
    o->key_dist = strcmp(text, "uniform") == 0 ? KVT_KEYS_UNIFORM : KVT_KEYS_ZIPF;
    o->zipf_s = 1.0;
    if (o->key_dist == KVT_KEYS_UNIFORM || strcmp(text, "zipf") == 0)
        return 0;
    char *end;
    if (strncmp(text, "zipf:", 5) == 0) {
        o->zipf_s = strtod(text + 5, &end);
        if (text[5] && !*end && o->zipf_s > 0 && o->zipf_s <= 5)
            return 0;
    }
    fprintf(stderr, "kvtorture: --key-dist is uniform, zipf or zipf:S with 0 < S <= 5\n");
    return -1;
}

static int number(const char *text, double min, double max, double *out)
{
    char *end;
    *out = strtod(text, &end);
    if (*text == '\0' || *end || *out < min || *out > max) {
        fprintf(stderr, "kvtorture: '%s' is not a number in [%g, %g]\n", text, min, max);
        return -1;
    }
    return 0;
}

static void defaults(struct kvt_options *o)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const char *env = getenv("KVNODE");
    *o = (struct kvt_options){.duration_s = 30, .workers = 8, .keys = 5, .timeout_ms = 2000,
                              .nemesis_interval_s = 5, .catch_up_s = 30,
                              .config_dir = KVT_CONFIG_DIR,
                              .kvnode = env ? env : KVT_KVNODE_PATH,
                              .search_steps_max = KVT_LIN_STEPS_MAX_DEFAULT,
                              .seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec};
}

static const struct option longs[] = {
    {"duration", 1, 0, 'd'}, {"seed", 1, 0, 's'},     {"nemesis", 1, 0, 'n'},
    {"workers", 1, 0, 'w'},  {"keys", 1, 0, 'k'},     {"history", 1, 0, 'H'},
    {"single", 0, 0, '1'},   {"timeout-ms", 1, 0, 't'}, {"interval", 1, 0, 'i'},
    {"kvnode", 1, 0, 'K'},   {"config-dir", 1, 0, 'C'}, {"keep", 0, 0, 'P'},     {"check", 1, 0, 'c'},
    {"workload", 1, 0, 'W'}, {"help", 0, 0, 'h'},     {"key-dist", 1, 0, 'D'},
    {"summary", 1, 0, 'S'},  {"search-steps", 1, 0, 'X'}, {"catch-up", 1, 0, 'U'},
    {0, 0, 0, 0}};

int kvt_options_parse(struct kvt_options *o, int argc, char **argv)
{
    defaults(o);
    double v;
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'd': rc = number(optarg, 1, KVT_DURATION_S_MAX, &o->duration_s); break;
        case 's': rc = number(optarg, 0, 1.8e19, &v); o->seed = strtoull(optarg, NULL, 10); break;
        case 'n': rc = parse_faults(o, optarg); break;
        case 'w': rc = number(optarg, 1, KVT_WORKERS_MAX, &v); o->workers = (unsigned)v; break;
        case 'k': rc = number(optarg, 1, KVT_KEYS_MAX, &v); o->keys = (unsigned)v; break;
        case 't': rc = number(optarg, 10, 600000, &v); o->timeout_ms = (int)v; break;
        case 'i': rc = number(optarg, 0.5, 3600, &o->nemesis_interval_s); break;
        case 'H': o->history = optarg; break;
        case '1': o->single = true; break;
        case 'K': o->kvnode = optarg; break;
        case 'C': o->config_dir = optarg; break;
        case 'P': o->keep = true; break;
        case 'c': o->check = optarg; break;
        case 'W': rc = parse_workload(o, optarg); break;
        case 'D': rc = parse_key_dist(o, optarg); break;
        case 'S': o->summary = optarg; break;
        case 'X': rc = number(optarg, 1, 1e12, &v); o->search_steps_max = (uint64_t)v; break;
        case 'U': rc = number(optarg, 1, 3600, &o->catch_up_s); break;
        default: rc = -1; break;
        }
    }
    if (rc == 0 && o->workload == KVT_WORKLOAD_APPEND && o->keys > KVT_APPEND_KEYS_MAX) {
        fprintf(stderr, "kvtorture: the append workload's window is at most %d keys\n",
                KVT_APPEND_KEYS_MAX);
        rc = -1;
    }
    if (rc != 0 || optind != argc) {
        fputs(usage_text, stderr);
        return KVT_EXIT_USAGE;
    }
    return KVT_EXIT_CLEAN;
}
