/* kvctl_main.c: kvctl's options, command table and exit codes. */
#include "kvctl_args.h"
#include "kvctl_cmds.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(struct kvctl *k, int argc, char **argv);
    const char *args;
    const char *help;
};

static const struct command commands[] = {
    {"ping", kvctl_cmd_ping, "", "check that the node answers"},
    {"get", kvctl_cmd_get, "KEY", "print KEY's value (exit 1 when not found)"},
    {"set", kvctl_cmd_set, "KEY VALUE", "write KEY; prints the committed version"},
    {"del", kvctl_cmd_del, "KEY", "delete KEY (exit 1 when it did not exist)"},
    {"range", kvctl_cmd_range, "BEGIN END [--limit N] [--reverse]",
     "print keys in [BEGIN, END) with values; END \"\" means to the end"},
    {"txn", kvctl_cmd_txn, "[FILE|-]",
     "read lines 'get K', 'set K V', 'del K', 'clear-range B E' and commit them atomically at "
     "one read version (the gets are conflict keys; CONFLICT exits 3)"},
    {"watch", kvctl_cmd_watch, "KEY | --prefix P [--from VERSION] [--count N]",
     "print each change of KEY (or of every key starting with P) as it is committed: "
     "'VERSION set KEY VALUE' or 'VERSION del KEY', tab-separated (--json: one object each), "
     "from the current version (or after --from VERSION) until N changes (default: for ever); "
     "any node serves it, another takes over if it goes away"},
    {"version", kvctl_cmd_version, "", "print the current read version"},
    {"status", kvctl_cmd_status, "", "print the node's role, versions, keys, digest (a table with several endpoints)"},
    {"health", kvctl_cmd_health, "",
     "is every endpoint healthy and ready, as its HTTP /health and /ready say (exit 3 if not)"},
    {"leader", kvctl_cmd_leader, "transfer [ID]",
     "hand leadership to member ID (default: the most up-to-date follower): the leader brings "
     "it up to date and tells it to start an election at once; writes wait meanwhile. Prints "
     "the new leader; exit 3 when the transfer failed (TIMEOUT: the target did not win within "
     "an election timeout, the old leader leads on)"},
    {"member", kvctl_cmd_member, "list | add HOST:PORT | add-learner HOST:PORT | promote ID | remove ID",
     "the cluster's members. list: each member's id, endpoint, role (voter or learner), "
     "whether it leads, and as the leader sees it its match index and lag in entries (asked "
     "of the leader when the node asked names one). add-learner: a new member that receives "
     "the log but does not vote; promote it to a voter once it caught up (add makes a voter "
     "at once). remove: a voter or a learner, the leader too (it hands over once the change "
     "commits). Changes go to the leader, one at a time; each prints the new member's id and "
     "the voters and learners after it. --json: list prints {\"config_index\", "
     "\"reported_by\", \"leader_id\", \"members\": [{\"member_id\", \"endpoint\", "
     "\"role\", \"leader\", \"match_index\", \"lag_entries\"}]} (the last two only from "
     "the leader), a change {\"member_id\", \"config_index\", \"members\"}. Exit 3 when "
     "refused: MEMBER_CHANGE_PENDING (another change is in flight: retry), LEARNER_BEHIND "
     "(promote once it caught up), LAST_VOTER, NOT_MEMBER, MEMBERS_FULL, INVALID_ARGUMENT"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: kvctl [-e HOST:PORT[,HOST:PORT...]] [--hex] [--json] [--unframed] "
               "[--serializable]\n             [--tls] [--cacert FILE] [--cert FILE --key FILE] "
               "COMMAND [ARGS]\n       kvctl COMMAND --help\n"
               "TLS: --cacert is the CA bundle the server's certificate must chain to (default:\n"
               "the system's), --cert and --key a client certificate; any of them turns TLS on\n"
               "flags may come before or after the command (--flag VALUE or --flag=VALUE);\n"
               "\"--\" ends them, for a key or value that starts with '-'\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].args);
    fprintf(f, "exit codes: 0 ok, 1 key not found, 2 usage error, 3 server or connection "
               "error\nthe endpoint defaults to $KVCTL_ENDPOINTS or 127.0.0.1:9090; with several, the\n"
               "first that answers is used, a NOT_LEADER answer's leader hint is followed, and\n"
               "UNAVAILABLE, BUSY, TIMEOUT and lost replies are retried with backoff for up to\n"
               "%u ms; set, del and txn write in a client session of their own, so a retried\n"
               "write applies at most once (SESSION_EXPIRED: its outcome is unknown)\n"
               "reads are linearizable; --serializable serves get and range from the node asked\n"
               "(any node, no leader round trip, possibly stale)\n", KVCTL_RETRY_BUDGET_MS);
}

static int run_command(struct kvctl *k, const struct command *c, bool help, int argc,
                       char **argv)
{
    if (help) {
        printf("usage: kvctl %s %s\n  %s\n", c->name, c->args, c->help);
        return KVCTL_OK;
    }
    int rc = c->run(k, argc, argv);
    if (rc == KVCTL_USAGE)
        fprintf(stderr, "usage: kvctl %s %s\n", c->name, c->args);
    return rc;
}

static const struct command *find_command(const char *name)
{
    for (size_t c = 0; c < COMMAND_COUNT; c++)
        if (strcmp(name, commands[c].name) == 0)
            return &commands[c];
    return NULL;
}

/* Checks the command line; fills k. Returns -1 to go on, else the exit code. */
static int setup(struct kvctl *k, const struct kvctl_args *a, const struct command **cmd)
{
    if (a->help && !a->command) {
        usage(stdout);
        return KVCTL_OK;
    }
    if (!a->command) {
        usage(stderr);
        return KVCTL_USAGE;
    }
    *cmd = find_command(a->command);
    if (!*cmd) {
        fprintf(stderr, "kvctl: unknown command '%s'\n", a->command);
        usage(stderr);
        return KVCTL_USAGE;
    }
    k->framed = !a->unframed;
    k->hex = a->hex;
    k->json = a->json;
    k->serializable = a->serializable;
    k->has_limit = a->has_limit;
    k->limit = a->limit;
    k->reverse = a->reverse;
    k->prefix = a->prefix;
    k->has_from = a->has_from;
    k->from = a->from;
    k->count_max = a->count_max;
    k->endpoints = a->endpoints ? a->endpoints
                   : getenv("KVCTL_ENDPOINTS") ? getenv("KVCTL_ENDPOINTS")
                                               : "127.0.0.1:9090";
    char err[256];
    if (kvctl_endpoints_parse(k->endpoints, &k->eps, err, sizeof err) != 0) {
        fprintf(stderr, "kvctl: %s: %s\n", k->endpoints, err);
        return KVCTL_USAGE;
    }
    if (a->tls && !(k->tls = net_tls_client_ctx(a->cacert, a->cert, a->key, err, sizeof err))) {
        fprintf(stderr, "kvctl: TLS: %s\n", err);
        return KVCTL_USAGE;
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct kvctl k = {.framed = true};
    signal(SIGPIPE, SIG_IGN); /* a closed TLS connection is an error return, not a death */
    struct kvctl_args a;
    char err[256];
    const struct command *cmd = NULL;
    int rc = kvctl_args_parse(&a, argc, argv, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "kvctl: %s\nrun 'kvctl --help' for usage\n", err);
        rc = KVCTL_USAGE;
    } else {
        rc = setup(&k, &a, &cmd);
    }
    if (rc < 0) {
        tp_buf_init(&k.out);
        rc = run_command(&k, cmd, a.help, a.count - 1, a.positional + 1);
        if (k.connected)
            net_sync_close(&k.client);
        tp_buf_free(&k.out);
    }
    net_tls_ctx_free(k.tls);
    kvctl_args_free(&a);
    return rc;
}
