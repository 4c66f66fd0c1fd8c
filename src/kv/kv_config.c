/* kv_config.c: default limits and their validation. */
#include "kv_config.h"

#include <assert.h>
#include <stddef.h>

void kv_config_default(struct kv_config *cfg)
{
    assert(cfg != NULL);
    cfg->key_max = KV_KEY_MAX_DEFAULT;
    cfg->value_max = KV_VALUE_MAX_DEFAULT;
    cfg->txn_bytes_max = KV_TXN_BYTES_MAX_DEFAULT;
    cfg->window_versions = KV_WINDOW_VERSIONS_DEFAULT;
    cfg->window_us = KV_WINDOW_US_DEFAULT;
    cfg->sessions_max = KV_SESSIONS_MAX_DEFAULT;
    cfg->session_results_max = KV_SESSION_RESULTS_MAX_DEFAULT;
    cfg->session_results_total_max = KV_SESSION_RESULTS_TOTAL_MAX_DEFAULT;
}

bool kv_config_valid(const struct kv_config *cfg)
{
    assert(cfg != NULL);
    if (cfg->key_max > KV_KEY_MAX_CEILING || cfg->value_max > KV_VALUE_MAX_CEILING)
        return false;
    if (cfg->txn_bytes_max > KV_TXN_BYTES_MAX_CEILING)
        return false;
    if (cfg->sessions_max == 0 || cfg->session_results_max == 0 ||
        cfg->session_results_total_max == 0)
        return false;
    return cfg->window_us >= 0;
}
