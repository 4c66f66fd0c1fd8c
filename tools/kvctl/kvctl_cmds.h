/* kvctl_cmds.h: each kvctl command: (k, arguments after the command name) -> exit code. */
#ifndef KVCTL_CMDS_H
#define KVCTL_CMDS_H

#include "kvctl.h"

int kvctl_cmd_ping(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_get(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_set(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_del(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_range(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_txn(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_version(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_status(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_health(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_watch(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_leader(struct kvctl *k, int argc, char **argv);
int kvctl_cmd_member(struct kvctl *k, int argc, char **argv);

/* A member id as kvctl takes one: 1 to 10 decimal digits. */
bool kvctl_member_id_ok(const char *s);
/* A list of members as a JSON array (kvctl member's fields); one role's ids on a line ("-"
   when none). */
void kvctl_members_json(const list_Member *list);
void kvctl_members_line(const list_Member *list, bool learners, char *buf, size_t size);

/* getNodeInfo from one endpoint on a connection of its own; 0 with out filled, or -1. */
int kvctl_node_info(const struct kvctl *k, const char *ep, TransactionalKV_getNodeInfo_result *out);

#endif
