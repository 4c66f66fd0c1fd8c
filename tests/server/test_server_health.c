/* test_server_health.c: the health and readiness rules of a standalone node, including the
   failed and stopping states that are hard to reach with a real process. */
#include "server_health.h"

#include "kv_config.h"

#include <criterion/criterion.h>
#include <string.h>

static struct server_config cfg;
static struct server_node node;

static void setup(void)
{
    server_config_default(&cfg);
    memset(&node, 0, sizeof node);
    node.cfg = &cfg;
    struct kv_config kc;
    kv_config_default(&kc);
    node.sm = kv_sm_new(&kc);
    cr_assert(node.sm);
}

static void teardown(void) { kv_sm_free(node.sm); }

TestSuite(server_health, .init = setup, .fini = teardown);

Test(server_health, standalone_is_healthy_and_ready)
{
    struct server_health h;
    server_health_get(&node, &h);
    cr_assert(h.healthy && h.ready && !h.failed);
    cr_assert_str_empty(h.reason);
    cr_assert_str_empty(h.ready_reason);
    cr_assert_eq(h.leader, 0);
}

Test(server_health, failed_node_is_neither_healthy_nor_ready)
{
    node.failed = true;
    struct server_health h;
    server_health_get(&node, &h);
    cr_assert(!h.healthy && !h.ready && h.failed);
    cr_assert(strstr(h.reason, "node failed"), "%s", h.reason);
    cr_assert(strstr(h.ready_reason, "not healthy"), "%s", h.ready_reason);
    cr_assert_not_null(server_failed_reason(&node));
}

Test(server_health, stopping_node_is_healthy_but_not_ready)
{
    node.stopping = true;
    struct server_health h;
    server_health_get(&node, &h);
    cr_assert(h.healthy && !h.ready);
    cr_assert_str_eq(h.ready_reason, "stopping");
}
