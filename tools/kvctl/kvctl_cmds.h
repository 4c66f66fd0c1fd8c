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

#endif
