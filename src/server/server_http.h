/* server_http.h: the node's HTTP listener (http.listen): /metrics, /health, /ready, the
   dashboard (/) and its data (/api/cluster, /api/node). */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

#include "server_node.h"

#include <stdint.h>

/* Listens on cfg->http_listen when set (else does nothing). 0, or -1 (logged). */
int server_http_open(struct server_node *n);
/* The port it listens on (0: HTTP is off). */
uint16_t server_http_port(const struct server_node *n);
/* Answers what waits (after server_rep_close, which ends the dashboard's peer calls). */
void server_http_close(struct server_node *n);

#endif
