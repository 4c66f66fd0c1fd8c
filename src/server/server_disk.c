/* server_disk.c: the node's storage state: failed (fail-stop) and out of space (NO_SPACE). */
#include "server_node.h"

#include "log.h"
#include "server_rep.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

/* Free space is measured this often; after a write found the disk full, the next write is
   let through (to find out whether space came back) this long after. */
#define SERVER_SPACE_CHECK_MS 1000u
#define SERVER_SPACE_RETRY_MS 1000u

bool server_node_failed(const struct server_node *n, char *why, size_t why_len)
{
    if (why && why_len)
        why[0] = '\0';
    if (n->failed) {
        if (why && why_len)
            snprintf(why, why_len, "%s", n->failure);
        return true;
    }
    if (!n->rep || !n->rep->cluster || !cluster_failed(n->rep->cluster))
        return false;
    struct cluster_status cs;
    cluster_status(n->rep->cluster, &cs);
    if (why && why_len)
        snprintf(why, why_len, "%s failed: %s", cs.failure ? cs.failure : "storage",
                 wal_last_error(n->wal));
    return true;
}

bool server_node_no_space(const struct server_node *n) { return n->space_low || n->space_full; }

void server_node_fail(struct server_node *n, const char *what, const char *detail)
{
    if (n->failed)
        return;
    n->failed = true;
    snprintf(n->failure, sizeof n->failure, "%s failed: %s", what, detail ? detail : "");
    log_error("storage: %s; this node refuses writes until it is restarted (see HACKING.md, "
              "\"A node reports a failed disk\")", n->failure);
}

void server_node_damaged(const struct server_node *n, const char *what,
                         const char *standalone_hint)
{
    if (n->cfg->mode == SERVER_MODE_REPLICATED)
        log_error("this replica's %s is damaged and it will not start on it. The cluster keeps "
                  "serving without it. To rebuild it: remove member %u (kvctl member remove "
                  "%u), move %s aside (keep it to look at), add the machine again as a new "
                  "member (kvctl member add-learner, deployment.join) and start it with an "
                  "empty data_dir: it catches up from the leader (see HACKING.md, \"A node "
                  "reports corruption\")", what, n->cfg->instance_index, n->cfg->instance_index,
                  n->cfg->data_dir);
    else
        log_error("the %s is damaged and this standalone node will not start on it: nothing "
                  "acknowledged may be dropped silently. Restore data_dir from a backup%s%s "
                  "(see HACKING.md, \"A node reports corruption\")", what,
                  standalone_hint ? ", or " : "", standalone_hint ? standalone_hint : "");
}

bool server_disk_refuses(struct server_node *n)
{
    return n->space_low || (n->space_full && server_now_ms() < n->space_retry_ms);
}

void server_disk_full(struct server_node *n)
{
    if (!n->space_full)
        log_warn("storage: the disk holding %s is full; writes are refused with NO_SPACE "
                 "until space is freed (reads are served)", n->cfg->data_dir);
    n->space_full = true;
    n->space_retry_ms = server_now_ms() + SERVER_SPACE_RETRY_MS;
}

void server_disk_wrote(struct server_node *n)
{
    if (!n->space_full)
        return;
    n->space_full = false;
    log_info("storage: writes go through again on %s", n->cfg->data_dir);
}

static void check_space(int fd, short what, void *arg)
{
    struct server_node *n = arg;
    (void)fd;
    (void)what;
    struct statvfs st;
    if (n->cfg->min_free_bytes == 0 || statvfs(n->cfg->data_dir, &st) != 0)
        return;
    uint64_t free_bytes = (uint64_t)st.f_bavail * st.f_frsize;
    bool low = free_bytes < n->cfg->min_free_bytes;
    if (low != n->space_low)
        log_warn(low ? "storage: %llu bytes free on %s, below storage.min_free_bytes %u: writes "
                       "are refused with NO_SPACE until space is freed (reads are served)"
                     : "storage: %llu bytes free on %s, storage.min_free_bytes %u: writes are "
                       "taken again",
                 (unsigned long long)free_bytes, n->cfg->data_dir, n->cfg->min_free_bytes);
    n->space_low = low;
}

int server_disk_start(struct server_node *n)
{
    check_space(-1, 0, n);
    struct timeval tv = {SERVER_SPACE_CHECK_MS / 1000, (SERVER_SPACE_CHECK_MS % 1000) * 1000};
    n->space_ev = event_new(n->base, -1, EV_PERSIST, check_space, n);
    return n->space_ev && event_add(n->space_ev, &tv) == 0 ? 0 : -1;
}

void server_disk_stop(struct server_node *n)
{
    if (n->space_ev)
        event_free(n->space_ev);
    n->space_ev = NULL;
}
