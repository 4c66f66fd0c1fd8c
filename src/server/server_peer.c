/* server_peer.c: peer methods on the client port (replicated mode): each connection keeps its
   own authentication state; calls go to cluster_serve_peer, which refuses them with PeerError
   UNAUTHORIZED until the connection proved it holds the cluster secret. */
#include "server_rep.h"

#include "cluster_serve.h"
#include "server_conn.h"
#include "log_client.h"
#include "net_tls.h"
#include "server_request.h"


/* The connection's auth state, made on its first peer call; NULL when closed or no memory. */
static struct cluster_peer_conn *conn_state(struct net_reply *reply, struct server_node *n)
{
    struct server_conn *sc = server_conn_get(reply);
    if (!sc)
        return NULL;
    if (!sc->peer_used) {
        cluster_peer_conn_init(&sc->peer);
        sc->peer_used = true;
        sc->node = n;
    }
    return &sc->peer;
}

/* With peer_tls, only a connection whose certificate the cluster CA issued may start the
   peer handshake (the cluster secret is checked after, as always). */
static bool tls_member(const struct server_node *n, const struct server_request *req)
{
    const char *ca = n->cfg->peer_tls_ca;
    if (!ca)
        return true;
    SSL *ssl = net_reply_conn_ssl(req->reply);
    if (ssl && net_tls_peer_issued_by(ssl, ca))
        return true;
    char subject[160] = "no certificate";
    if (ssl)
        net_tls_peer_subject(ssl, subject, sizeof subject);
    log_client(LOG_CLIENT_AUTH, LOG_WARN,
               "conn %llu (%s): refused as a peer: its certificate (%s) is not from the cluster "
               "CA (peer_tls.ca)", (unsigned long long)net_reply_conn_id(req->reply),
               net_reply_peer(req->reply), subject);
    return false;
}

static void peer_done(void *ctx, int err)
{
    struct server_request *req = ctx;
    const struct server_conn *sc = server_conn_find(req->reply);
    if (sc && sc->peer_used && sc->peer.authenticated)
        net_reply_conn_trust(req->reply);   /* a proven peer: clients never push it out */
    else if (err == 0 && req->method->id == TransactionalKV_METHOD_peerChallenge)
        net_reply_conn_hold(req->reply);    /* a peer, maybe: it may authenticate next */
    req->app_error = err != 0;
    server_request_done(req);
}

/* An authenticated peer's connection went (closed or reset by it, or by us): if this node
   follows that peer, it need not wait out an election timeout (cluster_peer_lost). */
void server_peer_conn_gone(struct server_conn *sc)
{
    struct server_node *n = sc->node;
    if (!sc->peer_used || !sc->peer.authenticated || !n || n->stopping || !n->rep ||
        !n->rep->cluster)
        return;
    cluster_peer_lost(n->rep->cluster, sc->peer.peer);
}

void server_rep_serve_peer(struct server_request *req)
{
    struct server_node *n = req->node;
    /* Without a connection there is nobody to authenticate: refuse rather than trust. */
    struct cluster_peer_conn *pc = req->reply ? conn_state(req->reply, n) : NULL;
    if (!pc) {
        peer_done(req, CLUSTER_ERR_UNAUTHORIZED);
        return;
    }
    if (!pc->authenticated && !tls_member(n, req)) {
        peer_done(req, CLUSTER_ERR_UNAUTHORIZED);
        return;
    }
    cluster_serve_peer(n->rep->cluster, &n->rep->secret, pc, 0, req->method->id, req->args,
                       req->result, peer_done, req);
}
