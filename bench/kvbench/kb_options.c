/* kb_options.c: kvbench's command line: endpoints, load shape, keys, outputs. */
#include "kvbench.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: kvbench [options]            load a kvnode (or cluster) and report latency\n"
    "       kvbench probe-rtt [N]         loopback TCP round trip (the network floor)\n"
    "       kvbench probe-fsync DIR [N]   one 128 B append + fdatasync (the disk floor)\n"
    "       kvbench --self-test\n"
    "  -e, --endpoints H:P,...   nodes to talk to (default 127.0.0.1:9090)\n"
    "      --config FILE         take them from a node config (listen, replica_endpoints)\n"
    "  -c, --connections N       connections (default 1)\n"
    "  -d, --depth N             requests in flight per connection (default 1)\n"
    "      --mix OP=W,...        set, get (linearizable), sget (serializable), range, txn, ping\n"
    "                            (default set=100)\n"
    "  -k, --keys N              key space (default 100000)\n"
    "      --dist uniform|zipf[:THETA]  key distribution (zipf default theta 0.99)\n"
    "      --key-size N --value-size N  bytes (default 16 and 100)\n"
    "      --range-len N         keys per range read (default 10)\n"
    "      --txn R:W             reads and writes per transaction (default 2:2)\n"
    "  -t, --duration S          measured seconds (default 5)\n"
    "  -n, --ops N               measured ops instead of a duration\n"
    "      --warmup S            seconds not measured first (default 0)\n"
    "      --rate R              open loop at R ops/s; latency from the intended start\n"
    "      --preload             write every key once before the run\n"
    "      --seed N              PRNG seed (default 1)\n"
    "      --unframed            TBufferedTransport style (default framed)\n"
    "      --retries N           per op, for NOT_LEADER/UNAVAILABLE/BUSY/TIMEOUT/lost (100)\n"
    "      --session             each connection writes in a client session (sets and commits\n"
    "                            numbered, retried with their number: applied at most once)\n"
    "      --timeout-ms N        no reply this long drops the connection (default 5000)\n"
    "      --tls                 TLS to the nodes (the system's CAs unless --cacert)\n"
    "      --cacert FILE --cert FILE --key FILE  the CA bundle and a client certificate\n"
    "      --json                one JSON object instead of the table\n"
    "      --csv FILE            latency distribution (bucket, count, cumulative)\n"
    "      --plot FILE.png       latency distribution plot (needs gnuplot)\n"
    "      --timeline FILE       completions per interval (CSV), for failover\n"
    "      --timeline-ms N       its interval (default 10)\n"
    "      --label TEXT          names the run in the outputs\n"
    "  -q, --quiet               no progress line\n";

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "kvbench: bad %s '%s' (see kvbench --help)\n", what, arg);
    return 2;
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '-' || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t v;
    if (!parse_u64(s, lo, hi, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static bool add_endpoint(struct kb_options *o, const char *ep, size_t len)
{
    if (len == 0 || len >= KB_ENDPOINT_LEN_MAX || o->endpoint_count >= KB_ENDPOINTS_MAX)
        return false;
    memcpy(o->endpoints[o->endpoint_count], ep, len);
    o->endpoints[o->endpoint_count++][len] = '\0';
    return true;
}

static bool parse_endpoints(struct kb_options *o, const char *list)
{
    o->endpoint_count = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (!add_endpoint(o, p, n))
            return false;
        p += n + (p[n] == ',');
    }
    return o->endpoint_count > 0;
}

/* A node config: its replica_endpoints when replicated, else its listen address. */
static bool parse_config(struct kb_options *o, const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "kvbench: %s:%d: %s\n", path, err.line, err.text);
        return false;
    }
    o->endpoint_count = 0;
    json_t *eps = json_object_get(json_object_get(root, "deployment"), "replica_endpoints");
    size_t i;
    json_t *ep;
    json_array_foreach(eps, i, ep) {
        if (json_is_string(ep) && !add_endpoint(o, json_string_value(ep), json_string_length(ep)))
            break;
    }
    json_t *listen = json_object_get(root, "listen");
    if (o->endpoint_count == 0 && json_is_string(listen))
        add_endpoint(o, json_string_value(listen), json_string_length(listen));
    json_decref(root);
    return o->endpoint_count > 0;
}

static bool parse_mix(struct kb_options *o, const char *spec)
{
    memset(o->mix, 0, sizeof o->mix);
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ","), name_len = strcspn(p, "=");
        if (name_len >= n)
            return false;
        char num[16];
        size_t num_len = n - name_len - 1;
        if (num_len == 0 || num_len >= sizeof num)
            return false;
        memcpy(num, p + name_len + 1, num_len);
        num[num_len] = '\0';
        int op = 0;
        while (op < KB_OP_COUNT && (strlen(kb_op_name((enum kb_op)op)) != name_len ||
                                    strncmp(kb_op_name((enum kb_op)op), p, name_len) != 0))
            op++;
        if (op == KB_OP_COUNT || !parse_u32(num, 0, 1000000, &o->mix[op]))
            return false;
        p += n + (p[n] == ',');
    }
    uint64_t total = 0;
    for (int op = 0; op < KB_OP_COUNT; op++)
        total += o->mix[op];
    return total > 0;
}

static bool parse_dist(struct kb_options *o, const char *s)
{
    if (strcmp(s, "uniform") == 0) {
        o->zipf_theta = 0;
        return true;
    }
    if (strncmp(s, "zipf", 4) != 0)
        return false;
    o->zipf_theta = 0.99;
    return s[4] == '\0' || (s[4] == ':' && parse_double(s + 5, 0.01, 0.9999, &o->zipf_theta));
}

static bool parse_txn(struct kb_options *o, const char *s)
{
    char r[16];
    size_t n = strcspn(s, ":");
    if (s[n] != ':' || n == 0 || n >= sizeof r)
        return false;
    memcpy(r, s, n);
    r[n] = '\0';
    return parse_u32(r, 0, KB_TXN_KEYS_MAX, &o->txn_reads) &&
           parse_u32(s + n + 1, 0, KB_TXN_KEYS_MAX, &o->txn_writes) &&
           o->txn_reads + o->txn_writes > 0;
}

static void defaults(struct kb_options *o)
{
    memset(o, 0, sizeof *o);
    add_endpoint(o, "127.0.0.1:9090", strlen("127.0.0.1:9090"));
    o->connections = o->depth = 1;
    o->mix[KB_OP_SET] = 100;
    o->keys = 100000;
    o->key_size = 16;
    o->value_size = 100;
    o->range_len = 10;
    o->txn_reads = o->txn_writes = 2;
    o->duration_s = 5;
    o->seed = 1;
    o->framed = true;
    o->retries_max = 100;
    o->timeout_ms = 5000;
    o->timeline_ms = 10;
    o->label = "kvbench";
}

enum { O_CONFIG = 256, O_MIX, O_DIST, O_KEY_SIZE, O_VALUE_SIZE, O_RANGE_LEN, O_TXN, O_WARMUP,
       O_RATE, O_PRELOAD, O_SEED, O_UNFRAMED, O_RETRIES, O_TIMEOUT, O_JSON, O_CSV, O_PLOT,
       O_TIMELINE, O_TIMELINE_MS, O_LABEL, O_TLS, O_CACERT, O_CERT, O_KEY, O_SESSION };

static const struct option long_options[] = {
    {"endpoints", 1, 0, 'e'}, {"config", 1, 0, O_CONFIG}, {"connections", 1, 0, 'c'},
    {"depth", 1, 0, 'd'}, {"mix", 1, 0, O_MIX}, {"keys", 1, 0, 'k'}, {"dist", 1, 0, O_DIST},
    {"key-size", 1, 0, O_KEY_SIZE}, {"value-size", 1, 0, O_VALUE_SIZE},
    {"range-len", 1, 0, O_RANGE_LEN}, {"txn", 1, 0, O_TXN}, {"duration", 1, 0, 't'},
    {"ops", 1, 0, 'n'}, {"warmup", 1, 0, O_WARMUP}, {"rate", 1, 0, O_RATE},
    {"preload", 0, 0, O_PRELOAD}, {"seed", 1, 0, O_SEED}, {"unframed", 0, 0, O_UNFRAMED},
    {"retries", 1, 0, O_RETRIES}, {"timeout-ms", 1, 0, O_TIMEOUT}, {"json", 0, 0, O_JSON},
    {"csv", 1, 0, O_CSV}, {"plot", 1, 0, O_PLOT}, {"timeline", 1, 0, O_TIMELINE},
    {"timeline-ms", 1, 0, O_TIMELINE_MS}, {"label", 1, 0, O_LABEL}, {"quiet", 0, 0, 'q'},
    {"tls", 0, 0, O_TLS}, {"cacert", 1, 0, O_CACERT}, {"cert", 1, 0, O_CERT},
    {"key", 1, 0, O_KEY}, {"session", 0, 0, O_SESSION}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};

/* One option with an argument; false when the argument is bad. */
static bool parse_one(struct kb_options *o, int ch, const char *a)
{
    switch (ch) {
    case 'e': return parse_endpoints(o, a);
    case O_CONFIG: return parse_config(o, a);
    case 'c': return parse_u32(a, 1, KB_CONNECTIONS_MAX, &o->connections);
    case 'd': return parse_u32(a, 1, KB_DEPTH_MAX, &o->depth);
    case O_MIX: return parse_mix(o, a);
    case 'k': return parse_u64(a, 1, 1000000000ull, &o->keys);
    case O_DIST: return parse_dist(o, a);
    case O_KEY_SIZE: return parse_u32(a, 4, KB_KEY_SIZE_MAX, &o->key_size);
    case O_VALUE_SIZE: return parse_u32(a, 0, KB_VALUE_SIZE_MAX, &o->value_size);
    case O_RANGE_LEN: return parse_u32(a, 1, 1000000, &o->range_len);
    case O_TXN: return parse_txn(o, a);
    case 't': return parse_double(a, 0.001, 86400, &o->duration_s);
    case 'n': return parse_u64(a, 1, UINT64_MAX / 4, &o->ops);
    case O_WARMUP: return parse_double(a, 0, 3600, &o->warmup_s);
    case O_RATE: return parse_double(a, 0.001, 1e9, &o->rate);
    case O_SEED: return parse_u64(a, 0, UINT64_MAX, &o->seed);
    case O_RETRIES: return parse_u32(a, 0, 1000000, &o->retries_max);
    case O_TIMEOUT: return parse_u32(a, 1, 3600000, &o->timeout_ms);
    case O_CSV: o->csv_path = a; return true;
    case O_PLOT: o->plot_path = a; return true;
    case O_TIMELINE: o->timeline_path = a; return true;
    case O_TIMELINE_MS: return parse_u32(a, 1, 60000, &o->timeline_ms);
    case O_LABEL: o->label = a; return true;
    case O_CACERT: o->cacert = a, o->tls = true; return true;
    case O_CERT: o->cert = a, o->tls = true; return true;
    case O_KEY: o->key = a, o->tls = true; return true;
    default: return false;
    }
}

int kb_options_parse(struct kb_options *o, int argc, char **argv)
{
    defaults(o);
    int ch, index;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "e:c:d:k:t:n:qh", long_options, &index)) != -1) {
        if (ch == 'h') {
            fputs(usage_text, stdout);
            return 1;
        }
        if (ch == '?')
            return 2;
        if (ch == O_TLS) {
            o->tls = true;
            continue;
        }
        if (ch == 'q' || ch == O_PRELOAD || ch == O_UNFRAMED || ch == O_JSON ||
            ch == O_SESSION) {
            o->quiet |= ch == 'q';
            o->session |= ch == O_SESSION;
            o->preload |= ch == O_PRELOAD;
            o->framed &= ch != O_UNFRAMED;
            o->json |= ch == O_JSON;
            continue;
        }
        const char *name = ch == 'e' ? "endpoints" : ch == 'c' ? "connections" : ch == 'd' ? "depth"
                         : ch == 'k' ? "keys" : ch == 't' ? "duration" : ch == 'n' ? "ops"
                         : long_options[index].name;
        if (!parse_one(o, ch, optarg))
            return bad(name, optarg);
    }
    if (optind < argc)
        return bad("argument", argv[optind]);
    if (o->mix[KB_OP_TXN] && o->txn_reads * o->depth > 1000000)
        return bad("txn reads times depth", "too many");
    return 0;
}
