/* server_config.c: loads the node's JSON config over defaults; every mistake names its key. */
#include "server_config.h"

#include "consensus.h"
#include "kv_config.h"
#include "log.h"
#include "net.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_FILE_MAX (1u << 20)
#define CONFIG_KEY_MAX 128u

enum field_kind { F_SECTION, F_STRING, F_U32, F_BOOL, F_MODE, F_FSYNC, F_LOG_LEVEL, F_ENDPOINTS,
                  F_CLIENT_AUTH };

struct field {
    const char *key;
    enum field_kind kind;
    size_t offset;
    uint32_t min, max;
};

#define AT(member) offsetof(struct server_config, member)

/* The schema is data: every key a config may hold, its type and its range. */
static const struct field fields[] = {
    {"listen", F_STRING, AT(listen), 0, 0},
    {"data_dir", F_STRING, AT(data_dir), 0, 0},
    {"log_level", F_LOG_LEVEL, AT(log_level), 0, 0},
    {"cluster_secret", F_STRING, AT(cluster_secret), 0, 0},
    {"cluster_secret_file", F_STRING, AT(cluster_secret_file), 0, 0},
    {"deployment", F_SECTION, 0, 0, 0},
    {"deployment.mode", F_MODE, AT(mode), 0, 0},
    {"deployment.instance_id", F_STRING, AT(instance_id), 0, 0},
    {"deployment.replica_endpoints", F_ENDPOINTS, 0, 0, 0},
    {"deployment.join", F_SECTION, AT(join), 0, 0},
    {"deployment.join.member_id", F_U32, AT(join_member_id), 0, UINT32_MAX - 1},
    {"deployment.join.endpoint", F_STRING, AT(join_endpoint), 0, 0},
    {"deployment.join.cluster_id", F_STRING, AT(join_cluster_text), 0, 0},
    {"consensus", F_SECTION, 0, 0, 0},
    {"consensus.election_timeout_ms", F_U32, AT(election_timeout_ms), 10, 600000},
    {"consensus.heartbeat_interval_ms", F_U32, AT(heartbeat_interval_ms), 1, 60000},
    {"consensus.request_timeout_ms", F_U32, AT(request_timeout_ms), 10, 600000},
    {"consensus.peer_call_timeout_ms", F_U32, AT(peer_call_timeout_ms), 10, 600000},
    {"consensus.member_identity", F_BOOL, AT(member_identity), 0, 0},
    {"debug", F_SECTION, 0, 0, 0},
    {"debug.fault_injection", F_BOOL, AT(fault_injection), 0, 0},
    {"storage", F_SECTION, 0, 0, 0},
    {"storage.fsync", F_FSYNC, 0, 1, 3600000},
    {"storage.snapshot_every_entries", F_U32, AT(snapshot_every_entries), 0, UINT32_MAX},
    {"storage.snapshot_log_growth_percent", F_U32, AT(snapshot_log_growth_percent), 0, 100000},
    {"storage.snapshot_log_min_bytes", F_U32, AT(snapshot_log_min_bytes), 0, UINT32_MAX},
    {"storage.snapshot_catchup_entries", F_U32, AT(snapshot_catchup_entries), 0, UINT32_MAX},
    {"storage.wal_segment_bytes", F_U32, AT(wal_segment_bytes), SERVER_WAL_SEGMENT_BYTES_MIN,
     SERVER_WAL_SEGMENT_BYTES_MAX},
    {"storage.min_free_bytes", F_U32, AT(min_free_bytes), 0, UINT32_MAX},
    {"limits", F_SECTION, 0, 0, 0},
    {"limits.max_frame_bytes", F_U32, AT(max_frame_bytes), 1024, NET_FRAME_BYTES_MAX},
    {"limits.max_connections", F_U32, AT(max_connections), 1, 1000000},
    {"limits.max_connections_per_address", F_U32, AT(max_connections_per_address), 0, 1000000},
    {"limits.idle_timeout_ms", F_U32, AT(idle_timeout_ms), 10, 86400000},
    {"limits.max_pending_requests", F_U32, AT(max_pending_requests), 1, 65536},
    {"limits.output_high_water_bytes", F_U32, AT(output_high_water_bytes), 4096,
     1024u * 1024 * 1024},
    {"limits.max_key_bytes", F_U32, AT(max_key_bytes), 1, KV_KEY_MAX_CEILING},
    {"limits.max_value_bytes", F_U32, AT(max_value_bytes), 0, KV_VALUE_MAX_CEILING},
    {"limits.max_txn_bytes", F_U32, AT(max_txn_bytes), 1, UINT32_MAX},
    {"limits.max_txn_operations", F_U32, AT(max_txn_operations), 1, SERVER_TXN_OPERATIONS_CEILING},
    {"limits.max_range_results", F_U32, AT(max_range_results), 1, 10000000},
    {"limits.max_reply_bytes", F_U32, AT(max_reply_bytes), SERVER_REPLY_BYTES_MIN,
     UINT32_MAX},
    {"limits.mvcc_window_ms", F_U32, AT(mvcc_window_ms), 0, 86400000},
    {"limits.mvcc_window_versions", F_U32, AT(mvcc_window_versions), 0, UINT32_MAX},
    {"limits.max_watches", F_U32, AT(max_watches), 0, 10000000},
    {"limits.watch_timeout_ms", F_U32, AT(watch_timeout_ms), 10, 86400000},
    {"sessions", F_SECTION, 0, 0, 0},
    {"sessions.timeout_ms", F_U32, AT(session_timeout_ms), 1000, 86400000},
    {"sessions.max_timeout_ms", F_U32, AT(session_timeout_ms_max), 1000, 86400000},
    {"http", F_SECTION, 0, 0, 0},
    {"http.listen", F_STRING, AT(http_listen), 0, 0},
    {"http.health_max_apply_lag", F_U32, AT(http_health_max_apply_lag), 0, UINT32_MAX},
    {"tls", F_SECTION, 0, 0, 0},
    {"tls.cert", F_STRING, AT(tls_cert), 0, 0},
    {"tls.key", F_STRING, AT(tls_key), 0, 0},
    {"tls.ca", F_STRING, AT(tls_ca), 0, 0},
    {"tls.client_auth", F_CLIENT_AUTH, AT(tls_client_auth), 0, 0},
    {"peer_tls", F_SECTION, 0, 0, 0},
    {"peer_tls.cert", F_STRING, AT(peer_tls_cert), 0, 0},
    {"peer_tls.key", F_STRING, AT(peer_tls_key), 0, 0},
    {"peer_tls.ca", F_STRING, AT(peer_tls_ca), 0, 0},
};

static const char *const kind_names[] = {
    [F_SECTION] = "an object", [F_STRING] = "a string", [F_U32] = "a non-negative integer",
    [F_BOOL] = "true or false",
    [F_MODE] = "\"standalone\" or \"replicated\"", [F_FSYNC] = "\"always\", \"never\" or a number of ms",
    [F_LOG_LEVEL] = "\"debug\", \"info\", \"warn\" or \"error\"",
    [F_ENDPOINTS] = "a list of HOST:PORT strings",
    [F_CLIENT_AUTH] = "\"none\", \"optional\" or \"require\"",
};

void server_config_default(struct server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = LOG_INFO;
    cfg->mode = SERVER_MODE_STANDALONE;
    cfg->join_member_id = UINT32_MAX; /* not given */
    cfg->member_identity = true;
    cfg->election_timeout_ms = 1000;
    cfg->heartbeat_interval_ms = 100;
    cfg->request_timeout_ms = 2000;
    cfg->peer_call_timeout_ms = 1000;
    cfg->fsync = SERVER_FSYNC_ALWAYS;
    cfg->snapshot_every_entries = SERVER_SNAPSHOT_EVERY_DEFAULT;
    cfg->snapshot_log_growth_percent = SERVER_SNAPSHOT_LOG_GROWTH_PERCENT_DEFAULT;
    cfg->snapshot_log_min_bytes = SERVER_SNAPSHOT_LOG_MIN_BYTES_DEFAULT;
    cfg->snapshot_catchup_entries = SERVER_SNAPSHOT_CATCHUP_ENTRIES_DEFAULT;
    cfg->wal_segment_bytes = SERVER_WAL_SEGMENT_BYTES_DEFAULT;
    cfg->min_free_bytes = SERVER_MIN_FREE_BYTES_DEFAULT;
    cfg->max_frame_bytes = NET_FRAME_BYTES_DEFAULT;
    cfg->max_connections = NET_CONNECTIONS_DEFAULT;
    cfg->max_connections_per_address = NET_CONNECTIONS_PER_ADDRESS_DEFAULT;
    cfg->idle_timeout_ms = NET_IDLE_TIMEOUT_MS_DEFAULT;
    cfg->max_pending_requests = NET_PENDING_REPLIES_DEFAULT;
    cfg->output_high_water_bytes = NET_OUTPUT_HIGH_WATER_DEFAULT;
    cfg->max_key_bytes = KV_KEY_MAX_DEFAULT;
    cfg->max_value_bytes = KV_VALUE_MAX_DEFAULT;
    cfg->max_txn_bytes = KV_TXN_BYTES_MAX_DEFAULT;
    cfg->max_txn_operations = 10000;
    cfg->max_range_results = 10000;
    cfg->max_reply_bytes = SERVER_REPLY_BYTES_DEFAULT;
    cfg->mvcc_window_ms = KV_WINDOW_US_DEFAULT / 1000;
    cfg->mvcc_window_versions = KV_WINDOW_VERSIONS_DEFAULT;
    cfg->http_health_max_apply_lag = SERVER_HEALTH_MAX_APPLY_LAG_DEFAULT;
    cfg->max_watches = SERVER_WATCHES_DEFAULT;
    cfg->watch_timeout_ms = SERVER_WATCH_TIMEOUT_MS_DEFAULT;
    cfg->session_timeout_ms = SERVER_SESSION_TIMEOUT_MS_DEFAULT;
    cfg->session_timeout_ms_max = SERVER_SESSION_TIMEOUT_MS_MAX_DEFAULT;
}

const char *server_mode_name(enum server_mode mode)
{
    return mode == SERVER_MODE_REPLICATED ? "replicated" : "standalone";
}

void server_config_free(struct server_config *cfg)
{
    free(cfg->path);
    free(cfg->listen);
    free(cfg->data_dir);
    free(cfg->instance_id);
    free(cfg->join_endpoint);
    free(cfg->join_cluster_text);
    free(cfg->cluster_secret);
    free(cfg->cluster_secret_file);
    free(cfg->http_listen);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_ca);
    free(cfg->peer_tls_cert);
    free(cfg->peer_tls_key);
    free(cfg->peer_tls_ca);
    for (uint32_t i = 0; i < cfg->replica_count; i++)
        free(cfg->replica_endpoints[i]);
    server_config_default(cfg);
}

/* Line of the first "name": in text, or 0. jansson keeps no positions after parsing. */
static int key_line(const char *text, const char *dotted)
{
    const char *name = strrchr(dotted, '.');
    name = name ? name + 1 : dotted;
    size_t n = strlen(name);
    for (const char *p = strchr(text, '"'); p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, name, n) != 0 || p[1 + n] != '"')
            continue;
        const char *q = p + 2 + n;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        if (*q != ':')
            continue;
        int line = 1;
        for (const char *c = text; c < p; c++)
            line += *c == '\n';
        return line;
    }
    return 0;
}

struct loader {
    struct server_config *cfg;
    const char *path;
    const char *text;
    char *err;
    size_t err_size;
};

__attribute__((format(printf, 3, 4))) static int fail(struct loader *ld, const char *key,
                                                       const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line = key ? key_line(ld->text, key) : 0;
    if (key && line > 0)
        snprintf(ld->err, ld->err_size, "%s:%d: key '%s': %s", ld->path, line, key, what);
    else if (key)
        snprintf(ld->err, ld->err_size, "%s: key '%s': %s", ld->path, key, what);
    else
        snprintf(ld->err, ld->err_size, "%s: %s", ld->path, what);
    return -1;
}

static const struct field *field_find(const char *key)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

static int set_string(struct loader *ld, const char *key, char **slot, json_t *v)
{
    const char *s = json_string_value(v);
    if (s[0] == '\0' || strlen(s) != json_string_length(v))
        return fail(ld, key, "must be a non-empty string without NUL bytes");
    char *copy = strdup(s);
    if (!copy)
        return fail(ld, key, "out of memory");
    free(*slot);
    *slot = copy;
    return 0;
}

static int set_u32(struct loader *ld, const struct field *f, uint32_t *slot, json_t *v)
{
    json_int_t n = json_integer_value(v);
    if (n < (json_int_t)f->min || n > (json_int_t)f->max)
        return fail(ld, f->key, "%lld is out of range [%u, %u]", (long long)n, f->min, f->max);
    *slot = (uint32_t)n;
    return 0;
}

static int set_endpoints(struct loader *ld, const char *key, json_t *v)
{
    struct server_config *cfg = ld->cfg;
    if (json_array_size(v) < 1 || json_array_size(v) > SERVER_REPLICAS_MAX)
        return fail(ld, key, "must list 1 to %u endpoints", SERVER_REPLICAS_MAX);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char host[256];
        uint16_t port;
        if (!json_is_string(e) ||
            net_split_host_port(json_string_value(e), host, sizeof host, &port) != NET_OK)
            return fail(ld, key, "item %zu is not a HOST:PORT string", i);
        if (set_string(ld, key, &cfg->replica_endpoints[cfg->replica_count], e) != 0)
            return -1;
        cfg->replica_count++;
    }
    return 0;
}

static int set_field(struct loader *ld, const struct field *f, json_t *v);

static int walk(struct loader *ld, json_t *obj, const char *prefix)
{
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v) {
        char key[CONFIG_KEY_MAX];
        int n = snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", name);
        if (n < 0 || (size_t)n >= sizeof key)
            return fail(ld, NULL, "key '%.40s...' is too long", name);
        const struct field *f = field_find(key);
        if (!f)
            return fail(ld, key, "unknown key");
        if (set_field(ld, f, v) != 0)
            return -1;
    }
    return 0;
}

static int set_field(struct loader *ld, const struct field *f, json_t *v)
{
    struct server_config *cfg = ld->cfg;
    void *slot = (char *)cfg + f->offset;
    const char *s = json_string_value(v);
    switch (f->kind) {
    case F_SECTION:
        if (!json_is_object(v))
            break;
        if (f->offset) /* a section whose presence means something */
            *(bool *)((char *)ld->cfg + f->offset) = true;
        return walk(ld, v, f->key);
    case F_STRING:
        if (!json_is_string(v))
            break;
        return set_string(ld, f->key, slot, v);
    case F_U32:
        if (!json_is_integer(v))
            break;
        return set_u32(ld, f, slot, v);
    case F_BOOL:
        if (!json_is_boolean(v))
            break;
        *(bool *)slot = json_is_true(v);
        return 0;
    case F_MODE:
        if (s && strcmp(s, "standalone") == 0)
            cfg->mode = SERVER_MODE_STANDALONE;
        else if (s && strcmp(s, "replicated") == 0)
            cfg->mode = SERVER_MODE_REPLICATED;
        else
            break;
        return 0;
    case F_LOG_LEVEL:
        if (!s || log_level_parse(s) < 0)
            break;
        cfg->log_level = log_level_parse(s);
        return 0;
    case F_FSYNC:
        if (s && strcmp(s, "always") == 0)
            cfg->fsync = SERVER_FSYNC_ALWAYS;
        else if (s && strcmp(s, "never") == 0)
            cfg->fsync = SERVER_FSYNC_NEVER;
        else if (json_is_integer(v)) {
            cfg->fsync = SERVER_FSYNC_INTERVAL;
            return set_u32(ld, f, &cfg->fsync_interval_ms, v);
        } else
            break;
        return 0;
    case F_ENDPOINTS:
        if (!json_is_array(v))
            break;
        return set_endpoints(ld, f->key, v);
    case F_CLIENT_AUTH: {
        static const char *const modes[] = {"none", "optional", "require"};
        for (int m = 0; s && m < 3; m++)
            if (strcmp(s, modes[m]) == 0) {
                *(int *)slot = m;
                return 0;
            }
        break;
    }
    }
    return fail(ld, f->key, "must be %s", kind_names[f->kind]);
}

/* cluster_secret_file: the secret is the file's content without a trailing newline. */
static int read_secret_file(struct loader *ld)
{
    struct server_config *cfg = ld->cfg;
    const char *key = "cluster_secret_file";
    if (cfg->cluster_secret)
        return fail(ld, key, "give cluster_secret or cluster_secret_file, not both");
    FILE *f = fopen(cfg->cluster_secret_file, "rb");
    if (!f)
        return fail(ld, key, "cannot open %s: %s", cfg->cluster_secret_file, strerror(errno));
    char buf[SERVER_SECRET_BYTES_MAX + 2];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (memchr(buf, '\0', n))
        return fail(ld, key, "the secret must not hold NUL bytes");
    if (!(cfg->cluster_secret = strdup(buf)))
        return fail(ld, NULL, "out of memory");
    return 0;
}

/* A member id: decimal digits only, at most max. 0 or -1. */
static int parse_member_id(const char *text, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long id = strtoul(text, &end, 10);
    if (*end || errno || text[0] < '0' || text[0] > '9' || id > max)
        return -1;
    *out = (uint32_t)id;
    return 0;
}

/* A cluster id as kvctl shows it: 16 hex digits (lower or upper case), not all zero. */
static int parse_cluster_id(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    size_t len = strlen(text);
    if (len != 16)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return v != 0 ? 0 : -1;
}

/* deployment.join: a node added to a running cluster, which it learns from the leader. */
static int check_join(struct loader *ld)
{
    struct server_config *cfg = ld->cfg;
    char host[256];
    uint16_t port;
    uint32_t id;
    if (cfg->replica_count > 0)
        return fail(ld, "deployment.join", "a node joining a running cluster takes no "
                    "deployment.replica_endpoints (they only bootstrap a new cluster)");
    if (cfg->join_member_id == UINT32_MAX)
        return fail(ld, "deployment.join.member_id", "is required: the id the cluster gave "
                    "this node when it was added (kvctl member add-learner)");
    if (!cfg->join_endpoint)
        return fail(ld, "deployment.join.endpoint", "is required: this node's HOST:PORT for "
                    "its peers, as given when it was added");
    if (net_split_host_port(cfg->join_endpoint, host, sizeof host, &port) != NET_OK ||
        strlen(cfg->join_endpoint) >= CONSENSUS_ADDR_MAX)
        return fail(ld, "deployment.join.endpoint", "'%s' is not HOST:PORT (under %u bytes)",
                    cfg->join_endpoint, CONSENSUS_ADDR_MAX);
    if (cfg->instance_id && (parse_member_id(cfg->instance_id, UINT32_MAX - 1, &id) != 0 ||
                             id != cfg->join_member_id))
        return fail(ld, "deployment.instance_id", "must be deployment.join.member_id (%u) "
                    "when given", cfg->join_member_id);
    if (cfg->join_cluster_text && parse_cluster_id(cfg->join_cluster_text, &cfg->join_cluster_id))
        return fail(ld, "deployment.join.cluster_id", "'%.40s' is not a cluster id (16 hex "
                    "digits, not all zero, as kvctl member add-learner and kvctl status show it)",
                    cfg->join_cluster_text);
    cfg->instance_index = cfg->join_member_id;
    if (!cfg->instance_id) {
        char text[16];
        snprintf(text, sizeof text, "%u", cfg->join_member_id);
        if (!(cfg->instance_id = strdup(text)))
            return fail(ld, NULL, "out of memory");
    }
    return 0;
}

static int check_replicated(struct loader *ld)
{
    struct server_config *cfg = ld->cfg;
    if (cfg->join) {
        if (check_join(ld) != 0)
            return -1;
    } else if (!cfg->instance_id)
        return fail(ld, "deployment.instance_id", "is required in replicated mode");
    else if (cfg->replica_count == 0)
        return fail(ld, "deployment.replica_endpoints", "must list the endpoints in replicated "
                    "mode (a new cluster), or deployment.join name this node (joining one)");
    else if (parse_member_id(cfg->instance_id, cfg->replica_count - 1, &cfg->instance_index) != 0)
        return fail(ld, "deployment.instance_id",
                    "must be this node's index in deployment.replica_endpoints (0..%u)",
                    cfg->replica_count - 1);
    if (cfg->cluster_secret_file && read_secret_file(ld) != 0)
        return -1;
    size_t len = cfg->cluster_secret ? strlen(cfg->cluster_secret) : 0;
    if (len < SERVER_SECRET_BYTES_MIN || len > SERVER_SECRET_BYTES_MAX)
        return fail(ld, cfg->cluster_secret_file ? "cluster_secret_file" : "cluster_secret",
                    "replicated mode needs a secret of %u to %u bytes", SERVER_SECRET_BYTES_MIN,
                    SERVER_SECRET_BYTES_MAX);
    if (cfg->heartbeat_interval_ms * 2 > cfg->election_timeout_ms)
        return fail(ld, "consensus.heartbeat_interval_ms",
                    "must be at most half of consensus.election_timeout_ms");
    return 0;
}

/* tls and peer_tls: files come in pairs, a CA where certificates are checked. */
static int check_tls(struct loader *ld)
{
    struct server_config *cfg = ld->cfg;
    if (!cfg->tls_cert != !cfg->tls_key)
        return fail(ld, cfg->tls_cert ? "tls.key" : "tls.cert", "tls.cert and tls.key go together");
    if (!cfg->tls_cert && (cfg->tls_ca || cfg->tls_client_auth))
        return fail(ld, cfg->tls_ca ? "tls.ca" : "tls.client_auth", "needs tls.cert and tls.key");
    if (cfg->tls_client_auth && !cfg->tls_ca)
        return fail(ld, "tls.ca", "is required when tls.client_auth is optional or require");
    if (!cfg->peer_tls_cert != !cfg->peer_tls_key)
        return fail(ld, cfg->peer_tls_cert ? "peer_tls.key" : "peer_tls.cert",
                    "peer_tls.cert and peer_tls.key go together");
    bool peer = cfg->peer_tls_cert || cfg->peer_tls_ca;
    if (peer && !cfg->peer_tls_ca)
        return fail(ld, "peer_tls.ca", "is required for mutual TLS between nodes");
    if (peer && !cfg->tls_cert)
        return fail(ld, "peer_tls.ca", "needs tls.cert and tls.key (the port peers reach)");
    if (peer && cfg->mode != SERVER_MODE_REPLICATED)
        return fail(ld, "peer_tls.ca", "is for replicated mode only");
    if (cfg->tls_cert && cfg->mode == SERVER_MODE_REPLICATED && !peer)
        return fail(ld, "peer_tls.ca", "is required with tls in replicated mode: peers reach "
                                       "each other on the TLS port, and check the cluster CA");
    return 0;
}

/* Relations between keys, checked once everything is read. */
static int check_whole(struct loader *ld)
{
    struct server_config *cfg = ld->cfg;
    char host[256];
    uint16_t port;
    if (!cfg->listen)
        return fail(ld, "listen", "is required (HOST:PORT)");
    if (net_split_host_port(cfg->listen, host, sizeof host, &port) != NET_OK)
        return fail(ld, "listen", "'%s' is not HOST:PORT", cfg->listen);
    if (!cfg->data_dir)
        return fail(ld, "data_dir", "is required");
    if (cfg->http_listen && net_split_host_port(cfg->http_listen, host, sizeof host, &port) != NET_OK)
        return fail(ld, "http.listen", "'%s' is not HOST:PORT", cfg->http_listen);
    if (cfg->max_key_bytes + (uint64_t)cfg->max_value_bytes > cfg->max_txn_bytes)
        return fail(ld, "limits.max_txn_bytes", "must hold one key and one value at their limits");
    if (cfg->max_txn_bytes > cfg->max_frame_bytes)
        return fail(ld, "limits.max_txn_bytes", "must not exceed limits.max_frame_bytes");
    if (cfg->max_reply_bytes < (uint64_t)cfg->max_key_bytes + cfg->max_value_bytes +
                                   SERVER_REPLY_KV_OVERHEAD_BYTES + SERVER_REPLY_ENVELOPE_BYTES)
        return fail(ld, "limits.max_reply_bytes", "must hold one key and one value at their "
                    "limits, plus %u bytes", SERVER_REPLY_KV_OVERHEAD_BYTES +
                    SERVER_REPLY_ENVELOPE_BYTES);
    if (cfg->mode == SERVER_MODE_REPLICATED && check_replicated(ld) != 0)
        return -1;
    if (cfg->mode == SERVER_MODE_STANDALONE && cfg->join)
        return fail(ld, "deployment.join", "is for replicated mode (deployment.mode)");
    if (check_tls(ld) != 0)
        return -1;
    if (cfg->mode == SERVER_MODE_STANDALONE && cfg->instance_id &&
        parse_member_id(cfg->instance_id, UINT32_MAX, &cfg->instance_index) != 0)
        return fail(ld, "deployment.instance_id", "must be a member id: a decimal number (a "
                    "standalone node is 0 when it is not given)");
    if (!cfg->instance_id && !(cfg->instance_id = strdup(cfg->listen)))
        return fail(ld, NULL, "out of memory");
    return 0;
}

int server_config_parse(struct server_config *cfg, const char *path, const char *text,
                        char *err, size_t err_size)
{
    struct loader ld = {cfg, path, text, err, err_size};
    server_config_default(cfg);
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, err_size, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return -1;
    }
    int rc = json_is_object(root) ? walk(&ld, root, "") : fail(&ld, NULL, "must be a JSON object");
    json_decref(root);
    if (rc == 0)
        rc = check_whole(&ld);
    if (rc == 0 && !(cfg->path = strdup(path)))
        rc = fail(&ld, NULL, "out of memory");
    if (rc != 0)
        server_config_free(cfg);
    return rc;
}

int server_config_load(struct server_config *cfg, const char *path, char *err, size_t err_size)
{
    server_config_default(cfg);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(CONFIG_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, CONFIG_FILE_MAX + 1, f) : 0;
    bool too_big = n > CONFIG_FILE_MAX, failed = ferror(f) != 0;
    fclose(f);
    int rc = -1;
    if (!text)
        snprintf(err, err_size, "%s: out of memory", path);
    else if (failed)
        snprintf(err, err_size, "%s: cannot read", path);
    else if (too_big)
        snprintf(err, err_size, "%s: larger than %u bytes", path, CONFIG_FILE_MAX);
    else if (memchr(text, '\0', n))
        snprintf(err, err_size, "%s:1:1: NUL byte in the file", path);
    else {
        text[n] = '\0';
        rc = server_config_parse(cfg, path, text, err, err_size);
    }
    free(text);
    return rc;
}
