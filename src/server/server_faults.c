/* server_faults.c: fault injection from outside the process (partition tests, the kvtorture
   nemesis), only with debug.fault_injection: true.
 *
 * The node reads data_dir/faults every routing tick (half a heartbeat interval). The file
 * holds up to two lines, each a key, '=' and a comma-separated list of node ids (instance
 * indexes; may be empty):
 *     drop_to=1,2      calls and replies this node sends to nodes 1 and 2 are dropped
 *     drop_from=2      everything this node receives from node 2 is dropped
 * Blank lines and lines starting with '#' are ignored; this node's own id is ignored. A
 * missing or empty file drops nothing, so deleting it heals. A file that does not parse is
 * logged once and leaves the drops as they were. Writes forwarded to the leader are cut the
 * same way (they travel on the same links). Write the file atomically (temp file + rename)
 * so a half-written file is never read.
 */
#include "server_rep.h"

#include "log.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_FILE "faults"

struct fault_set {
    bool to[CONSENSUS_NODES_MAX];
    bool from[CONSENSUS_NODES_MAX];
};

/* Parses "1,2" into set; false on anything else. */
static bool parse_ids(const char *list, uint32_t count, bool *set)
{
    while (*list) {
        char *end;
        unsigned long id = strtoul(list, &end, 10);
        if (end == list || id >= count || (*end && *end != ','))
            return false;
        set[id] = true;
        list = *end ? end + 1 : end;
    }
    return true;
}

static bool parse_faults(char *text, uint32_t count, struct fault_set *out)
{
    memset(out, 0, sizeof *out);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (strncmp(line, "drop_to=", 8) == 0) {
            if (!parse_ids(line + 8, count, out->to))
                return false;
        } else if (strncmp(line, "drop_from=", 10) == 0) {
            if (!parse_ids(line + 10, count, out->from))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* The file's text ("" when missing); false when it is too long to be ours. */
static bool read_faults(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    buf[0] = '\0';
    if (!f)
        return true;
    size_t n = fread(buf, 1, size - 1, f);
    bool whole = feof(f) || fgetc(f) == EOF;
    fclose(f);
    buf[n] = '\0';
    return whole && strlen(buf) == n;
}

static void apply_faults(struct server_node *n, const struct fault_set *fs)
{
    uint32_t self = n->cfg->instance_index;
    char to[64] = "", from[64] = "";
    for (uint32_t i = 0; i < n->cfg->replica_count; i++) {
        bool t = fs->to[i] && i != self, f = fs->from[i] && i != self;
        if (i != self)
            cluster_transport_drop(n->rep->tp, i, t, f);
        if (t)
            snprintf(to + strlen(to), sizeof to - strlen(to), "%s%u", to[0] ? "," : "", i);
        if (f)
            snprintf(from + strlen(from), sizeof from - strlen(from), "%s%u", from[0] ? "," : "",
                     i);
    }
    log_warn("fault injection: dropping to [%s], from [%s]", to, from);
}

static void poll_faults(int fd, short what, void *arg)
{
    struct server_node *n = arg;
    struct server_rep *rep = n->rep;
    (void)fd;
    (void)what;
    char text[sizeof rep->fault_text];
    bool ok = read_faults(rep->fault_path, text, sizeof text);
    if (strcmp(text, rep->fault_text) == 0)
        return;
    snprintf(rep->fault_text, sizeof rep->fault_text, "%s", text);
    struct fault_set fs;
    if (!ok || !parse_faults(text, n->cfg->replica_count, &fs)) {
        log_warn("fault injection: %s does not parse; drops unchanged", rep->fault_path);
        return;
    }
    apply_faults(n, &fs);
}

int server_faults_start(struct server_node *n)
{
    struct server_rep *rep = n->rep;
    if (snprintf(rep->fault_path, sizeof rep->fault_path, "%s/" FAULT_FILE, n->cfg->data_dir) >=
        (int)sizeof rep->fault_path)
        return -1;
    uint32_t ms = n->cfg->heartbeat_interval_ms / 2 ? n->cfg->heartbeat_interval_ms / 2 : 1;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    rep->fault_ev = event_new(n->base, -1, EV_PERSIST, poll_faults, n);
    if (!rep->fault_ev || event_add(rep->fault_ev, &tv) != 0)
        return -1;
    log_warn("fault injection is on: obeying %s", rep->fault_path);
    return 0;
}
