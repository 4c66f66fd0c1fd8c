/* net_tls.h: TLS contexts (OpenSSL) for the node's port, its peer links and the clients. */
#ifndef NET_TLS_H
#define NET_TLS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
struct bufferevent;

/* tls.client_auth: none (no certificate asked), optional (verified when given), require. */
enum net_tls_client_auth { NET_TLS_AUTH_NONE, NET_TLS_AUTH_OPTIONAL, NET_TLS_AUTH_REQUIRE };

#define NET_TLS_ERR_MAX 256u

/*
 * The server side of the node's port: cert and key (PEM files) are presented to everyone;
 * client certificates are verified against ca (PEM bundle; may be NULL with client_auth
 * none), and also against extra_ca when given (the cluster CA: peers present certificates
 * it issued, so they are asked for one even with client_auth none). TLS 1.2 at least.
 * NULL with a one-line reason in err.
 */
SSL_CTX *net_tls_server_ctx(const char *cert, const char *key, const char *ca,
                            const char *extra_ca, enum net_tls_client_auth client_auth,
                            char *err, size_t err_size);
/*
 * A client's side: the server's certificate must chain to ca (PEM bundle; NULL: the
 * system's default trust store); cert and key (may be NULL) are presented when asked.
 */
SSL_CTX *net_tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
                            size_t err_size);
/* A client connection's SSL for host (a name or an IP address): checked against the server
   certificate's names (and sent as SNI for a name). NULL when out of memory. */
SSL *net_tls_client_ssl(SSL_CTX *ctx, const char *host);
void net_tls_ctx_free(SSL_CTX *ctx);
/* A bufferevent (no socket yet: bufferevent_socket_connect it) that runs the client side of a
   TLS handshake for host once connected, then reports BEV_EVENT_CONNECTED. NULL: no memory. */
struct event_base;
struct bufferevent *net_tls_client_bev(struct event_base *base, SSL_CTX *ctx, const char *host);

/* The reason a TLS connection failed, for a log line: OpenSSL's queued errors (and the
   certificate verification result when that is why), or "" when none. */
void net_tls_error_text(struct bufferevent *bev, char *out, size_t size);
/* The verified peer certificate's subject (a one-line DN) or "no certificate". */
void net_tls_peer_subject(const SSL *ssl, char *out, size_t size);
/* Whether the peer's certificate (already verified by the handshake) chains to the CA
   bundle in ca_file: how a node tells a cluster member from a client. */
bool net_tls_peer_issued_by(const SSL *ssl, const char *ca_file);

#endif
