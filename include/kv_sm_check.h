/* kv_sm_check.h: validation of a command against the limits, before anything is applied. */
#ifndef KV_SM_CHECK_H
#define KV_SM_CHECK_H

#include "kv_config.h"
#include "kvstore.h"

/* 0 or KEY_TOO_LARGE / VALUE_TOO_LARGE / TRANSACTION_TOO_LARGE / INVALID_ARGUMENT. */
int kv_sm_check_command(const struct kv_config *cfg, const KvCommand *cmd);

#endif
