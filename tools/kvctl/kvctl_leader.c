/* kvctl_leader.c: kvctl leader transfer [ID]: hand leadership to a member (or the most
   up-to-date follower), asked of the leader (a NOT_LEADER answer's hint is followed). */
#include "kvctl_cmds.h"

#include <string.h>

int kvctl_cmd_leader(struct kvctl *k, int argc, char **argv)
{
    if (argc < 1 || argc > 2 || strcmp(argv[0], "transfer") != 0 ||
        (argc == 2 && !kvctl_member_id_ok(argv[1])))
        return KVCTL_USAGE;
    TransferLeaderRequest q;
    TransferLeaderRequest_init(&q);
    int rc = KVCTL_OK;
    if (argc == 2) {
        q.has_target_id = true;
        if (tp_bytes_set_str(&q.target_id, argv[1]) != 0)
            rc = kvctl_call_failed("transferLeader", TP_ERR_NOMEM, NULL);
    }
    TransactionalKV_transferLeader_result res;
    TransactionalKV_transferLeader_result_init(&res);
    if (rc == KVCTL_OK)
        KVCTL_CALL_RETRY(rc, k, transferLeader, &q, &res, false);
    const TransferLeaderResponse *t = &res.success;
    if (rc == KVCTL_OK && !t->success) {
        rc = kvctl_server_error("leader transfer", t->has_error, &t->error, t->has_error_code,
                                t->error_code);
    } else if (rc == KVCTL_OK) {
        const char *id = t->has_leader_id && t->leader_id.data ? (const char *)t->leader_id.data
                                                               : "?";
        if (k->json)
            printf("{\"leader_id\": \"%s\"}\n", id);
        else
            printf("OK leader %s\n", id);
    }
    TransactionalKV_transferLeader_result_free(&res);
    TransferLeaderRequest_free(&q);
    return rc;
}
