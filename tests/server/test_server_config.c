/* test_server_config.c: the config loader: defaults, every kind of key, errors naming keys. */
#include "server_config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[SERVER_CONFIG_ERR_MAX];

static int parse(struct server_config *cfg, const char *text)
{
    err[0] = '\0';
    return server_config_parse(cfg, "test.json", text, err, sizeof err);
}

static void expect_error(const char *text, const char *needle)
{
    struct server_config cfg;
    cr_assert_eq(parse(&cfg, text), -1, "accepted: %s", text);
    cr_assert(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
    cr_assert(strncmp(err, "test.json", 9) == 0, "message '%s' must name the file", err);
}

Test(server_config, the_shipped_single_node_config_loads)
{
    struct server_config cfg;
    cr_assert_eq(server_config_load(&cfg, CONFIG_DIR "/single.json", err, sizeof err), 0, "%s",
                 err);
    cr_assert_str_eq(cfg.listen, "127.0.0.1:9090");
    cr_assert_eq(cfg.mode, SERVER_MODE_STANDALONE);
    cr_assert_eq(cfg.fsync, SERVER_FSYNC_ALWAYS);
    cr_assert_eq(cfg.max_frame_bytes, 16u << 20);
    cr_assert_eq(cfg.snapshot_every_entries, 10000);
    cr_assert_eq(cfg.snapshot_log_min_bytes, 64u << 20, "one log segment");
    cr_assert_eq(cfg.snapshot_log_growth_percent, 100);
    cr_assert_eq(cfg.wal_segment_bytes, 64u << 20);
    server_config_free(&cfg);
}

Test(server_config, every_kind_of_value_is_read)
{
    struct server_config cfg;
    const char *text =
        "{\"listen\": \"0.0.0.0:7000\", \"data_dir\": \"/tmp/x\", \"log_level\": \"debug\",\n"
        " \"cluster_secret\": \"sixteen-byte-key\", \"debug\": {\"fault_injection\": true},\n"
        " \"deployment\": {\"mode\": \"replicated\", \"instance_id\": \"1\",\n"
        "   \"replica_endpoints\": [\"127.0.0.1:1\", \"127.0.0.1:2\", \"127.0.0.1:3\"]},\n"
        " \"consensus\": {\"election_timeout_ms\": 300, \"heartbeat_interval_ms\": 50,\n"
        "   \"request_timeout_ms\": 1500, \"peer_call_timeout_ms\": 400},\n"
        " \"storage\": {\"fsync\": 5, \"snapshot_every_entries\": 0,\n"
        "   \"snapshot_log_min_bytes\": 12345,\n"
        "   \"wal_segment_bytes\": 4096},\n"
        " \"limits\": {\"max_connections\": 7, \"mvcc_window_versions\": 100,"
        "  \"max_pending_requests\": 32, \"output_high_water_bytes\": 65536}}";
    cr_assert_eq(parse(&cfg, text), 0, "%s", err);
    cr_assert_str_eq(cfg.listen, "0.0.0.0:7000");
    cr_assert_eq(cfg.log_level, 0);
    cr_assert_eq(cfg.mode, SERVER_MODE_REPLICATED);
    cr_assert_str_eq(cfg.instance_id, "1");
    cr_assert_eq(cfg.instance_index, 1);
    cr_assert_str_eq(cfg.cluster_secret, "sixteen-byte-key");
    cr_assert(cfg.fault_injection);
    cr_assert_eq(cfg.request_timeout_ms, 1500);
    cr_assert_eq(cfg.peer_call_timeout_ms, 400);
    cr_assert_eq(cfg.replica_count, 3);
    cr_assert_str_eq(cfg.replica_endpoints[2], "127.0.0.1:3");
    cr_assert_eq(cfg.election_timeout_ms, 300);
    cr_assert_eq(cfg.fsync, SERVER_FSYNC_INTERVAL);
    cr_assert_eq(cfg.fsync_interval_ms, 5);
    cr_assert_eq(cfg.snapshot_every_entries, 0, "0 turns snapshots off");
    cr_assert_eq(cfg.snapshot_log_min_bytes, 12345);
    cr_assert_eq(cfg.wal_segment_bytes, 4096);
    cr_assert_eq(cfg.max_connections, 7);
    cr_assert_eq(cfg.max_pending_requests, 32);
    cr_assert_eq(cfg.output_high_water_bytes, 65536);
    cr_assert_eq(cfg.mvcc_window_versions, 100);
    server_config_free(&cfg);
}

Test(server_config, errors_name_the_file_line_and_key)
{
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\",\n \"limitz\": {}}",
                 "test.json:2: key 'limitz': unknown key");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\",\n\"limits\": {\n"
                 "  \"max_connections\": \"many\"}}",
                 "test.json:3: key 'limits.max_connections': must be a non-negative integer");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"limits\": {\"bogus\": 1}}",
                 "key 'limits.bogus': unknown key");
    expect_error("{\"listen\": 9090, \"data_dir\": \"d\"}", "key 'listen': must be a string");
    expect_error("{\"listen\": \"nohost\", \"data_dir\": \"d\"}", "key 'listen'");
    expect_error("{\"data_dir\": \"d\"}", "key 'listen': is required");
    expect_error("{\"listen\": \"127.0.0.1:1\"}", "key 'data_dir': is required");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"storage\": {\"fsync\": "
                 "\"sometimes\"}}",
                 "key 'storage.fsync'");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"limits\": "
                 "{\"max_frame_bytes\": -1}}",
                 "key 'limits.max_frame_bytes': -1 is out of range");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"deployment\": "
                 "{\"mode\": \"replicated\"}}",
                 "key 'deployment.instance_id': is required");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"deployment\": 3}",
                 "key 'deployment': must be an object");
    expect_error("{\"listen\": \"127.0.0.1:1\",\n \"data_dir\": }", "test.json:2:");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"storage\": "
                 "{\"wal_segment_bytes\": 100}}",
                 "key 'storage.wal_segment_bytes': 100 is out of range");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"limits\": "
                 "{\"max_txn_operations\": 100001}}",
                 "key 'limits.max_txn_operations': 100001 is out of range");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"limits\": "
                 "{\"max_reply_bytes\": 100000}}",
                 "key 'limits.max_reply_bytes': must hold one key and one value");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"deployment\": "
                 "{\"instance_id\": \"alpha\"}}",
                 "key 'deployment.instance_id': must be a member id");
    expect_error("[1]", "must be a JSON object");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"listen\": \"127.0.0.1:2\", \"data_dir\": \"d\"}",
                 "duplicate");
}

Test(server_config, a_missing_file_is_named)
{
    struct server_config cfg;
    cr_assert_eq(server_config_load(&cfg, "/nonexistent/kv.json", err, sizeof err), -1);
    cr_assert(strstr(err, "/nonexistent/kv.json: cannot open"), "%s", err);
}

#define REPLICATED(extra)                                                                  \
    "{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", " extra                           \
    " \"deployment\": {\"mode\": \"replicated\", \"instance_id\": \"0\", "                 \
    "\"replica_endpoints\": [\"127.0.0.1:1\", \"127.0.0.1:2\", \"127.0.0.1:3\"]}}"

Test(server_config, replicated_mode_checks_id_endpoints_and_secret)
{
    expect_error(REPLICATED(""), "key 'cluster_secret': replicated mode needs a secret of 16");
    expect_error(REPLICATED("\"cluster_secret\": \"short\","), "key 'cluster_secret'");
    expect_error(REPLICATED("\"cluster_secret_file\": \"/nonexistent/secret\","),
                 "key 'cluster_secret_file': cannot open /nonexistent/secret");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"cluster_secret\": "
                 "\"0123456789abcdef\", \"deployment\": {\"mode\": \"replicated\", "
                 "\"instance_id\": \"3\", \"replica_endpoints\": [\"127.0.0.1:1\", "
                 "\"127.0.0.1:2\", \"127.0.0.1:3\"]}}",
                 "key 'deployment.instance_id': must be this node's index");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"cluster_secret\": "
                 "\"0123456789abcdef\", \"deployment\": {\"mode\": \"replicated\", "
                 "\"instance_id\": \"0\", \"replica_endpoints\": []}}",
                 "key 'deployment.replica_endpoints': must list 1 to");
    expect_error(REPLICATED("\"debug\": {\"fault_injection\": 1},"),
                 "key 'debug.fault_injection': must be true or false");
}

#define JOIN(join, extra)                                                                  \
    "{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"cluster_secret\": "                \
    "\"0123456789abcdef\", \"deployment\": {\"mode\": \"replicated\", " extra                 \
    "\"join\": " join "}}"

/* deployment.join: a node added to a running cluster names its member id and endpoint, and
   no replica_endpoints (those only bootstrap a new cluster). */
Test(server_config, a_joining_node_names_its_id_and_endpoint)
{
    struct server_config cfg;
    cr_assert_eq(parse(&cfg, JOIN("{\"member_id\": 5, \"endpoint\": \"127.0.0.1:9\"}", "")), 0,
                 "%s", err);
    cr_assert(cfg.join);
    cr_assert_eq(cfg.replica_count, 0);
    cr_assert_eq(cfg.instance_index, 5);
    cr_assert_str_eq(cfg.instance_id, "5");
    cr_assert_str_eq(cfg.join_endpoint, "127.0.0.1:9");
    server_config_free(&cfg);
    cr_assert_eq(parse(&cfg, JOIN("{\"member_id\": 12, \"endpoint\": \"h:9\"}",
                                  "\"instance_id\": \"12\", ")), 0, "%s", err);
    cr_assert_eq(cfg.instance_index, 12);
    cr_assert_eq(cfg.join_cluster_id, 0, "no cluster named: 0");
    server_config_free(&cfg);
    cr_assert_eq(parse(&cfg, JOIN("{\"member_id\": 3, \"endpoint\": \"h:9\", \"cluster_id\": "
                                  "\"00c0FFee12345678\"}", "")), 0, "%s", err);
    cr_assert_eq(cfg.join_cluster_id, 0x00c0ffee12345678ull);
    server_config_free(&cfg);
}

/* deployment.join.cluster_id is input: exactly 16 hex digits, not zero. */
Test(server_config, a_join_cluster_id_is_16_hex_digits)
{
    static const char *bad[] = {"\"123\"", "\"00c0ffee123456789\"",
                                "\"00c0ffee1234567g\"", "\"0000000000000000\"",
                                "\"-0c0ffee12345678\"", "\" 0c0ffee12345678\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char join[160];
        snprintf(join, sizeof join, "{\"member_id\": 3, \"endpoint\": \"h:9\", \"cluster_id\": %s}",
                 bad[i]);
        char text[512];
        snprintf(text, sizeof text, JOIN("%s", ""), join);
        expect_error(text, "key 'deployment.join.cluster_id': '");
        expect_error(text, "is not a cluster id (16 hex digits");
    }
    expect_error(JOIN("{\"member_id\": 3, \"endpoint\": \"h:9\", \"cluster_id\": 5}", ""),
                 "key 'deployment.join.cluster_id': must be a string");
    expect_error(JOIN("{\"member_id\": 3, \"endpoint\": \"h:9\", \"cluster_id\": \"\"}", ""),
                 "key 'deployment.join.cluster_id': must be a non-empty string");
}

Test(server_config, join_is_checked_strictly)
{
    expect_error(JOIN("{\"member_id\": 5, \"endpoint\": \"127.0.0.1:9\"}",
                      "\"instance_id\": \"0\", \"replica_endpoints\": [\"127.0.0.1:1\"], "),
                 "key 'deployment.join': a node joining a running cluster takes no "
                 "deployment.replica_endpoints");
    expect_error(JOIN("{\"endpoint\": \"127.0.0.1:9\"}", ""),
                 "key 'deployment.join.member_id': is required");
    expect_error(JOIN("{\"member_id\": 5}", ""), "key 'deployment.join.endpoint': is required");
    expect_error(JOIN("{\"member_id\": 5, \"endpoint\": \"nowhere\"}", ""),
                 "key 'deployment.join.endpoint': 'nowhere' is not HOST:PORT");
    expect_error(JOIN("{\"member_id\": 5, \"endpoint\": \"127.0.0.1:9\"}",
                      "\"instance_id\": \"4\", "),
                 "key 'deployment.instance_id': must be deployment.join.member_id (5)");
    expect_error(JOIN("{\"member_id\": -1, \"endpoint\": \"127.0.0.1:9\"}", ""),
                 "key 'deployment.join.member_id': -1 is out of range");
    expect_error(JOIN("{\"member_id\": 5, \"endpoint\": \"127.0.0.1:9\", \"cluster\": 1}",
                      ""),
                 "key 'deployment.join.cluster': unknown key");
    expect_error(JOIN("5", ""), "key 'deployment.join': must be an object");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"deployment\": "
                 "{\"join\": {\"member_id\": 5, \"endpoint\": \"127.0.0.1:9\"}}}",
                 "key 'deployment.join': is for replicated mode");
    expect_error("{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", \"cluster_secret\": "
                 "\"0123456789abcdef\", \"deployment\": {\"mode\": \"replicated\", "
                 "\"instance_id\": \"0\"}}",
                 "key 'deployment.replica_endpoints': must list the endpoints in replicated "
                 "mode (a new cluster), or deployment.join");
}

/* Any size from 1 to 7, even ones too (issue 17, item 5): 4 voters keep writing with 3. */
Test(server_config, an_even_number_of_replicas_is_a_cluster_too)
{
    struct server_config cfg;
    cr_assert_eq(parse(&cfg, "{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"d\", "
                             "\"cluster_secret\": \"0123456789abcdef\", \"deployment\": "
                             "{\"mode\": \"replicated\", \"instance_id\": \"1\", "
                             "\"replica_endpoints\": [\"127.0.0.1:1\", \"127.0.0.1:2\"]}}"),
                 0, "%s", err);
    cr_assert_eq(cfg.replica_count, 2);
    cr_assert_eq(cfg.instance_index, 1);
    server_config_free(&cfg);
}

Test(server_config, the_secret_may_come_from_a_file)
{
    char path[] = "/tmp/kv-secret-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "0123456789abcdefXYZ\n", 20), 20);
    close(fd);
    char text[512];
    snprintf(text, sizeof text, REPLICATED("\"cluster_secret_file\": \"%s\","), path);
    struct server_config cfg;
    cr_assert_eq(parse(&cfg, text), 0, "%s", err);
    cr_assert_str_eq(cfg.cluster_secret, "0123456789abcdefXYZ", "the trailing newline is cut");
    server_config_free(&cfg);
    unlink(path);
}

Test(server_config, the_shipped_cluster_configs_load)
{
    for (unsigned i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, CONFIG_DIR "/node%u.json", i);
        struct server_config cfg;
        cr_assert_eq(server_config_load(&cfg, path, err, sizeof err), 0, "%s", err);
        cr_assert_eq(cfg.mode, SERVER_MODE_REPLICATED);
        cr_assert_eq(cfg.instance_index, i);
        cr_assert_eq(cfg.replica_count, 3);
        cr_assert_str_eq(cfg.replica_endpoints[i], cfg.listen);
        cr_assert_lt(cfg.election_timeout_ms, 1000, "a leader is replaced in under a second");
        server_config_free(&cfg);
    }
}
