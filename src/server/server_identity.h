/* server_identity.h: the data dir's incarnation (member identity, consensus.h). */
#ifndef SERVER_IDENTITY_H
#define SERVER_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

/* Reads data_dir/identity, or, when there is none, makes a random non-zero incarnation and
 * writes it there atomically. *cluster_id: the cluster id it names, 0 when none yet. 0, or -1
 * (logged) when it is damaged or cannot be read or written: the node must not start. */
int server_identity_open(const char *data_dir, uint64_t *incarnation, uint64_t *cluster_id);
/* Writes the file again (atomically) naming the cluster id the cluster committed; 0, or -1
 * (logged as a warning: the id is still checked against the log at the next start). */
int server_identity_bind(const char *data_dir, uint64_t incarnation, uint64_t cluster_id);
/* The file's text: its first line, and maybe a second naming the cluster (*cluster_id 0 when
 * none); 0, or -1 when it is not exactly that (for the tests too). */
int server_identity_parse(const char *text, size_t len, uint64_t *incarnation,
                          uint64_t *cluster_id);

#endif
