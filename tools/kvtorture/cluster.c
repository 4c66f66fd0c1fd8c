/* cluster.c: kvnode processes for a run: configs in a temp dir, start, kill, pause, wipe. */
#include "kvtorture.h"
#include "port_pick.h"
#include "powercut.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NODE_LISTEN_S 15.0
#define ELECTION_TIMEOUT_MS_DEFAULT 1000u
/* Each fsync of a node under the power-cut shim takes up to this much longer, at random (a
   noisy disk); before a cut the nemesis slows the followers' disks further. */
#define KVT_POWERCUT_SYNC_US "2000"
#ifndef KVT_POWERCUT_LIB
#define KVT_POWERCUT_LIB "kvt_powercut.so"
#endif


/* Maps every replica endpoint from the shipped configs' addresses to this run's. */
static int rewrite_endpoints(json_t *eps, char old[][64], const struct kvt_cluster *c)
{
    size_t i;
    json_t *v;
    json_array_foreach(eps, i, v) {
        unsigned j = 0;
        while (j < c->count && !(json_is_string(v) && strcmp(json_string_value(v), old[j]) == 0))
            j++;
        if (j == c->count) {
            fprintf(stderr, "kvtorture: replica endpoint %zu names no node's listen address\n", i);
            return -1;
        }
        json_array_set_new(eps, i, json_string(c->nodes[j].addr));
    }
    return 0;
}

static int read_config(struct kvt_cluster *c, unsigned i, const char *path, json_t **out,
                       char old[][64])
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    const char *listen = root ? json_string_value(json_object_get(root, "listen")) : NULL;
    if (!listen) {
        fprintf(stderr, "kvtorture: %s: %s\n", path, root ? "no \"listen\"" : je.text);
        json_decref(root);
        return -1;
    }
    snprintf(old[i], 64, "%s", listen);
    json_t *dep = json_object_get(root, "deployment");
    const char *id = json_string_value(json_object_get(dep, "instance_id"));
    json_t *cons = json_object_get(root, "consensus");
    json_int_t et = json_integer_value(json_object_get(cons, "election_timeout_ms"));
    if (et > 0)
        c->election_timeout_ms = (unsigned)et;
    c->replicated = c->replicated || json_object_get(dep, "replica_endpoints") != NULL;
    /* The member id node_id and leader_id name (a standalone node is 0 unless told). */
    snprintf(c->nodes[i].id, sizeof c->nodes[i].id, "%s", id ? id : "0");
    char *end;
    unsigned long member = strtoul(c->nodes[i].id, &end, 10);
    atomic_init(&c->nodes[i].member, end != c->nodes[i].id && !*end ? (unsigned)member : i);
    *out = root;
    return 0;
}

/* The partition and disk nemeses write data_dir/faults; a node obeys it only with this set. */
static int enable_fault_file(json_t *root)
{
    json_t *debug = json_object_get(root, "debug");
    if (!debug && json_object_set_new(root, "debug", debug = json_object()) != 0)
        return -1;
    return json_object_set_new(debug, "fault_injection", json_true());
}

/* Runs are short and slow: without the log size minimum the nodes still snapshot every
   storage.snapshot_every_entries entries, so kill and restart-wipe meet snapshots and installs. */
static int snapshot_by_entries(json_t *root)
{
    json_t *storage = json_object_get(root, "storage");
    if (!storage && json_object_set_new(root, "storage", storage = json_object()) != 0)
        return -1;
    return json_object_set_new(storage, "snapshot_log_min_bytes", json_integer(0));
}

/* Member identity on, whatever the server's default: a wiped node restarted under its old id
   is refused (restart-wipe checks it, nemesis_member.c). */
static int member_identity(json_t *root)
{
    json_t *cons = json_object_get(root, "consensus");
    if (!cons && json_object_set_new(root, "consensus", cons = json_object()) != 0)
        return -1;
    return json_object_set_new(cons, "member_identity", json_true());
}

static int write_config(struct kvt_cluster *c, unsigned i, json_t *root, char old[][64])
{
    struct kvt_node *n = &c->nodes[i];
    char dir[KVT_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/node%u", c->dir, i);
    snprintf(n->data_dir, sizeof n->data_dir, "%s/data", dir);
    snprintf(n->config, sizeof n->config, "%s/config.json", dir);
    snprintf(n->log, sizeof n->log, "%s/log", dir);
    snprintf(n->undo_dir, sizeof n->undo_dir, "%s/undo", dir);
    if (!n->id[0])
        snprintf(n->id, sizeof n->id, "%s", n->addr);
    json_object_set_new(root, "listen", json_string(n->addr));
    json_object_set_new(root, "data_dir", json_string(n->data_dir));
    const char *level = getenv("KVT_LOG_LEVEL");   /* e.g. info or debug to trace a failure */
    json_object_set_new(root, "log_level", json_string(level && level[0] ? level : "warn"));
    json_t *eps = json_object_get(json_object_get(root, "deployment"), "replica_endpoints");
    if (eps && (rewrite_endpoints(eps, old, c) != 0 || member_identity(root) != 0))
        return -1;
    if (enable_fault_file(root) != 0)
        return -1;
    if (snapshot_by_entries(root) != 0)
        return -1;
    if (mkdir(dir, 0700) != 0 || mkdir(n->undo_dir, 0700) != 0 ||
        json_dump_file(root, n->config, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "kvtorture: cannot write %s: %s\n", n->config, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_configs(struct kvt_cluster *c, const struct kvt_options *o)
{
    json_t *roots[KVT_NODES_MAX] = {0};
    char old[KVT_NODES_MAX][64];
    int rc = 0;
    c->election_timeout_ms = ELECTION_TIMEOUT_MS_DEFAULT;
    for (unsigned i = 0; rc == 0 && i < (o->single ? 1u : KVT_NODES_MAX); i++) {
        char path[KVT_PATH_MAX + 32];
        if (o->single)
            snprintf(path, sizeof path, "%s/single.json", o->config_dir);
        else
            snprintf(path, sizeof path, "%s/node%u.json", o->config_dir, i);
        if (!o->single && i > 0 && access(path, R_OK) != 0)
            break;
        rc = read_config(c, i, path, &roots[i], old);
        snprintf(c->nodes[i].addr, sizeof c->nodes[i].addr, "127.0.0.1:%u", port_pick_loopback());
        c->count = rc == 0 ? i + 1 : c->count;
    }
    for (unsigned i = 0; rc == 0 && i < c->count; i++)
        rc = write_config(c, i, roots[i], old);
    for (unsigned i = 0; i < KVT_NODES_MAX; i++)
        json_decref(roots[i]);
    return rc;
}

static bool listening(const char *addr)
{
    struct net_sync cl;
    bool ok = net_sync_connect(&cl, addr, true, NULL, 500) == NET_OK;
    net_sync_close(&cl);
    return ok;
}

/* In the child: the power-cut shim goes in with the node's paths (powercut.h). */
static void preload_shim(const struct kvt_cluster *c, const struct kvt_node *n)
{
    setenv("LD_PRELOAD", c->powercut_lib, 1);
    setenv(KVT_POWERCUT_ENV_DIR, n->data_dir, 1);
    setenv(KVT_POWERCUT_ENV_UNDO, n->undo_dir, 1);
    setenv(KVT_POWERCUT_ENV_SYNC_US, KVT_POWERCUT_SYNC_US, 0);   /* unless set already */
    setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 0);
}

int kvt_node_start(struct kvt_cluster *c, unsigned i)
{
    struct kvt_node *n = &c->nodes[i];
    if (c->powercut_lib) {
        kvt_powercut_clear(n->undo_dir);   /* a killed node's page cache survived: no undo */
        mkdir(n->data_dir, 0700);          /* the shim watches it from the start */
    }
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the tool */
        close_range(3, ~0u, 0);             /* no worker's socket stays open in a node */
        int fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (c->powercut_lib)
            preload_shim(c, n);
        execl(c->kvnode, "kvnode", "--config", n->config, (char *)NULL);
        _exit(127);
    }
    n->pid = pid;
    n->paused = false;
    for (int64_t deadline = kvt_now_ns() + (int64_t)(NODE_LISTEN_S * 1e9);;) {
        if (listening(n->addr))
            return 0;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            n->pid = 0;
            kvt_watch_exited(n, status, false);
            fprintf(stderr, "kvtorture: node %u exited at start; see %s\n", i, n->log);
            return -1;
        }
        if (kvt_now_ns() > deadline) {
            fprintf(stderr, "kvtorture: node %u did not listen within %.0f s\n", i, NODE_LISTEN_S);
            return -1;
        }
        usleep(10000);   /* polling a condition under a deadline */
    }
}

void kvt_node_kill(struct kvt_node *n)
{
    if (n->pid <= 0)
        return;
    kill(n->pid, SIGKILL);
    int status;
    if (waitpid(n->pid, &status, 0) == n->pid)
        kvt_watch_exited(n, status, true);   /* it may have died on its own first */
    n->pid = 0;
    n->paused = false;
}

void kvt_node_pause(struct kvt_node *n, bool pause)
{
    if (n->pid > 0 && kill(n->pid, pause ? SIGSTOP : SIGCONT) == 0)
        n->paused = pause;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int rm_tree(const char *path)
{
    if (access(path, F_OK) != 0)
        return 0;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int kvt_node_wipe(struct kvt_node *n) { return rm_tree(n->data_dir); }

int kvt_cluster_up(struct kvt_cluster *c, const struct kvt_options *o)
{
    memset(c, 0, sizeof *c);
    c->kvnode = o->kvnode;
    c->up_ns = kvt_now_ns();
    if (o->faults[KVT_FAULT_POWER]) {
        c->powercut_lib = getenv("KVT_POWERCUT_LIB") ? getenv("KVT_POWERCUT_LIB") : KVT_POWERCUT_LIB;
        /* Without it the loader ignores LD_PRELOAD and no power cut would undo anything. */
        if (access(c->powercut_lib, R_OK) != 0) {
            fprintf(stderr, "kvtorture: power-cut needs its shim %s: %s (build it: ninja"
                            " tools/kvtorture/kvt_powercut.so)\n", c->powercut_lib,
                    strerror(errno));
            return -1;
        }
    }
    snprintf(c->dir, sizeof c->dir, "/tmp/kvtorture-XXXXXX");
    if (!mkdtemp(c->dir)) {
        fprintf(stderr, "kvtorture: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    int rc = write_configs(c, o);
    for (unsigned i = 0; rc == 0 && i < c->count; i++)
        rc = kvt_node_start(c, i);
    if (rc != 0)
        kvt_cluster_down(c, c->count > 0);   /* keep logs of nodes that ran */
    return rc;
}

unsigned kvt_cluster_stop(struct kvt_cluster *c)
{
    kvt_watch_poll(c);
    for (unsigned i = 0; i < c->count; i++)
        kvt_node_kill(&c->nodes[i]);
    kvt_watch_poll(c);   /* the last lines of the logs */
    return kvt_watch_report(c);
}

void kvt_cluster_remove(struct kvt_cluster *c, bool keep)
{
    if (c->dir[0] && !keep)
        rm_tree(c->dir);
    else if (c->dir[0])
        fprintf(stderr, "kvtorture: logs and data kept in %s\n", c->dir);
}

void kvt_cluster_down(struct kvt_cluster *c, bool keep)
{
    unsigned failed = kvt_cluster_stop(c);
    kvt_cluster_remove(c, keep || failed > 0);
}

int kvt_node_join_config(struct kvt_node *n, unsigned member_id, const char *cluster_id)
{
    json_error_t je;
    json_t *root = json_load_file(n->config, 0, &je);
    json_t *dep = root ? json_object_get(root, "deployment") : NULL;
    json_t *join = json_object();
    char tmp[sizeof n->config + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", n->config);
    int rc = dep && join ? 0 : -1;
    /* replica_endpoints only bootstrap a cluster: a joining node names none (and the id is
       the join's; either may be gone already, from an earlier join) */
    json_object_del(dep, "replica_endpoints");
    json_object_del(dep, "instance_id");
    if (rc == 0)
        rc = json_object_set_new(join, "member_id", json_integer(member_id)) |
             json_object_set_new(join, "endpoint", json_string(n->addr)) |
             (cluster_id[0] ? json_object_set_new(join, "cluster_id", json_string(cluster_id))
                            : 0) |
             json_object_set(dep, "join", join) | json_dump_file(root, tmp, JSON_INDENT(2));
    if (rc == 0 && rename(tmp, n->config) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "kvtorture: cannot write a join config to %s: %s\n", n->config,
                root ? strerror(errno) : je.text);
    json_decref(join);
    json_decref(root);
    return rc;
}

int kvt_cluster_node_of(const struct kvt_cluster *c, const char *hint, size_t len)
{
    char text[32];
    char *end = NULL;
    unsigned long id = ULONG_MAX;
    if (len > 0 && len < sizeof text) {
        memcpy(text, hint, len);
        text[len] = '\0';
        id = strtoul(text, &end, 10);
        if (end == text || *end)
            id = ULONG_MAX;   /* not a member id: an address */
    }
    for (unsigned i = 0; i < c->count; i++) {
        const struct kvt_node *n = &c->nodes[i];
        if (id == atomic_load(&n->member) ||
            (strlen(n->addr) == len && memcmp(n->addr, hint, len) == 0))
            return (int)i;
    }
    return -1;
}
