/* kvctl_main.c: kvctl's options, command table and exit codes. */
#include "kvctl_cmds.h"

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
    {"version", kvctl_cmd_version, "", "print the current read version"},
    {"status", kvctl_cmd_status, "", "print the node's role, versions, keys, digest (a table with several endpoints)"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: kvctl [-e HOST:PORT[,HOST:PORT...]] [--hex] [--json] [--unframed] "
               "[--serializable] COMMAND [ARGS]\n       kvctl COMMAND --help\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].args);
    fprintf(f, "exit codes: 0 ok, 1 key not found, 2 usage error, 3 server or connection "
               "error\nthe endpoint defaults to $KVCTL_ENDPOINTS or 127.0.0.1:9090; with several, the\n"
               "first that answers is used, a NOT_LEADER answer's leader hint is followed, and\n"
               "UNAVAILABLE, BUSY and (for reads and sets) TIMEOUT are retried with backoff for\n"
               "up to %u ms\n"
               "reads are linearizable; --serializable serves get and range from the node asked\n"
               "(any node, no leader round trip, possibly stale)\n", KVCTL_RETRY_BUDGET_MS);
}

static int run_command(struct kvctl *k, const struct command *c, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: kvctl %s %s\n  %s\n", c->name, c->args, c->help);
            return KVCTL_OK;
        }
    int rc = c->run(k, argc, argv);
    if (rc == KVCTL_USAGE)
        fprintf(stderr, "usage: kvctl %s %s\n", c->name, c->args);
    return rc;
}

int main(int argc, char **argv)
{
    struct kvctl k = {.framed = true};
    k.endpoints = getenv("KVCTL_ENDPOINTS") ? getenv("KVCTL_ENDPOINTS") : "127.0.0.1:9090";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "-e") == 0 || strcmp(argv[i], "--endpoints") == 0) && i + 1 < argc)
            k.endpoints = argv[++i];
        else if (strcmp(argv[i], "--hex") == 0)
            k.hex = true;
        else if (strcmp(argv[i], "--json") == 0)
            k.json = true;
        else if (strcmp(argv[i], "--unframed") == 0)
            k.framed = false;
        else if (strcmp(argv[i], "--serializable") == 0)
            k.serializable = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return KVCTL_OK;
        } else {
            fprintf(stderr, "kvctl: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return KVCTL_USAGE;
        }
    }
    if (i == argc) {
        usage(stderr);
        return KVCTL_USAGE;
    }
    char err[256];
    if (kvctl_endpoints_parse(k.endpoints, &k.eps, err, sizeof err) != 0) {
        fprintf(stderr, "kvctl: %s: %s\n", k.endpoints, err);
        return KVCTL_USAGE;
    }
    tp_buf_init(&k.out);
    int rc = -1;
    for (size_t c = 0; c < COMMAND_COUNT; c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            rc = run_command(&k, &commands[c], argc - i - 1, argv + i + 1);
    if (rc < 0) {
        fprintf(stderr, "kvctl: unknown command '%s'\n", argv[i]);
        usage(stderr);
        rc = KVCTL_USAGE;
    }
    if (k.connected)
        net_client_close(&k.client);
    tp_buf_free(&k.out);
    return rc;
}
