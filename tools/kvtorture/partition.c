/* partition.c: network partitions through each node's fault file (debug.fault_injection;
   format in src/server/server_faults.c), healed by removing the files. */
#include "kvtorture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kvt_partition_name(enum kvt_partition p)
{
    static const char *const names[KVT_PARTITIONS] = {
        "isolated both ways", "mute (hears, is not heard)", "deaf (is heard, hears nothing)"};
    return (unsigned)p < KVT_PARTITIONS ? names[p] : "?";
}

/* The instance index the fault file names node i by (its deployment.instance_id). */
unsigned kvt_fault_id(const struct kvt_cluster *c, unsigned i)
{
    return atomic_load(&c->nodes[i].member);
}

static void fault_path(const struct kvt_node *n, char *path, size_t size, const char *suffix)
{
    snprintf(path, size, "%s/faults%s", n->data_dir, suffix);
}

int kvt_fault_file_write(const struct kvt_node *n, const char *text)
{
    char path[KVT_PATH_MAX + 96], tmp[KVT_PATH_MAX + 96];
    fault_path(n, path, sizeof path, "");
    fault_path(n, tmp, sizeof tmp, ".tmp");
    FILE *f = fopen(tmp, "w");
    bool ok = f && fprintf(f, "# kvtorture nemesis\n%s", text) >= 0;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "kvtorture: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Node i's drop_to and drop_from lists. */
static int write_faults(const struct kvt_cluster *c, unsigned i, const char *to, const char *from)
{
    char text[KVT_NODES_MAX * 8 + 64];
    snprintf(text, sizeof text, "drop_to=%s\ndrop_from=%s\n", to, from);
    return kvt_fault_file_write(&c->nodes[i], text);
}

/* Every node but target, as a fault-file id list. */
static void others(const struct kvt_cluster *c, unsigned target, char *out, size_t size)
{
    out[0] = '\0';
    for (unsigned i = 0; i < c->count; i++)
        if (i != target)
            snprintf(out + strlen(out), size - strlen(out), "%s%u", out[0] ? "," : "",
                     kvt_fault_id(c, i));
}

int kvt_partition_apply(const struct kvt_cluster *c, enum kvt_partition p, unsigned target)
{
    if (target >= c->count || (unsigned)p >= KVT_PARTITIONS)
        return -1;
    char rest[KVT_NODES_MAX * 4], one[16];
    others(c, target, rest, sizeof rest);
    snprintf(one, sizeof one, "%u", kvt_fault_id(c, target));
    /* target -> others is cut unless deaf; others -> target is cut unless mute. Both ends
       of a link drop, so neither side's view depends on the other's poll. */
    bool cut_out = p != KVT_PARTITION_DEAF, cut_in = p != KVT_PARTITION_MUTE;
    int rc = write_faults(c, target, cut_out ? rest : "", cut_in ? rest : "");
    for (unsigned i = 0; rc == 0 && i < c->count; i++)
        if (i != target)
            rc = write_faults(c, i, cut_in ? one : "", cut_out ? one : "");
    return rc;
}

void kvt_partition_heal(const struct kvt_cluster *c)
{
    for (unsigned i = 0; i < c->count; i++) {
        char path[KVT_PATH_MAX + 96];
        fault_path(&c->nodes[i], path, sizeof path, "");
        if (remove(path) != 0 && errno != ENOENT)
            fprintf(stderr, "kvtorture: cannot remove %s: %s\n", path, strerror(errno));
    }
}
