/* test_cluster_err.c: the one mapping from cluster errors to the IDL's ErrorCode, which client
   answers (server_route) and peer replies (cluster_serve) both use. */
#include "cluster.h"
#include "kvstore.h"

#include <criterion/criterion.h>
#include <string.h>

static const struct {
    int err, code;
} expected[] = {
    {CLUSTER_OK, ErrorCode_OK},
    {CLUSTER_ERR_INVALID, ErrorCode_INVALID_ARGUMENT},
    {CLUSTER_ERR_NOT_LEADER, ErrorCode_NOT_LEADER},
    {CLUSTER_ERR_NO_LEADER, ErrorCode_UNAVAILABLE},
    {CLUSTER_ERR_BUSY, ErrorCode_BUSY},
    {CLUSTER_ERR_LOST, ErrorCode_NOT_LEADER},   /* never applied: retry at the leader */
    {CLUSTER_ERR_TOO_LARGE, ErrorCode_TRANSACTION_TOO_LARGE},
    {CLUSTER_ERR_TIMEOUT, ErrorCode_TIMEOUT},   /* the outcome is unknown */
    {CLUSTER_ERR_UNREACHABLE, ErrorCode_UNAVAILABLE},
    {CLUSTER_ERR_CLOSED, ErrorCode_SHUTTING_DOWN},
    {CLUSTER_ERR_NOMEM, ErrorCode_INTERNAL},
    {CLUSTER_ERR_IO, ErrorCode_UNAVAILABLE},
    {CLUSTER_ERR_UNAUTHORIZED, ErrorCode_UNAUTHORIZED},
    {CLUSTER_ERR_IGNORED, ErrorCode_UNAVAILABLE},
    {CLUSTER_ERR_CHANGE_PENDING, ErrorCode_MEMBER_CHANGE_PENDING},
    {CLUSTER_ERR_NOT_MEMBER, ErrorCode_NOT_MEMBER},
    {CLUSTER_ERR_LAST_VOTER, ErrorCode_LAST_VOTER},
    {CLUSTER_ERR_LEARNER_BEHIND, ErrorCode_LEARNER_BEHIND},
    {CLUSTER_ERR_FULL, ErrorCode_MEMBERS_FULL},
};

Test(cluster_err, every_error_maps_to_its_code_and_has_a_name)
{
    size_t n = sizeof expected / sizeof expected[0];
#define CLUSTER_ERR_COUNT(name, value, text) +1
    cr_assert_eq(n, 0 CLUSTER_ERRORS(CLUSTER_ERR_COUNT), "an error without an expected code");
#undef CLUSTER_ERR_COUNT
    for (size_t i = 0; i < n; i++) {
        int err = expected[i].err;
        cr_assert_eq(cluster_err_to_error_code(err), expected[i].code, "%s: %d, want %d",
                     cluster_strerror(err), cluster_err_to_error_code(err), expected[i].code);
        cr_assert_str_neq(cluster_strerror(err), "unknown cluster error", "error %d", err);
    }
}

Test(cluster_err, an_error_it_does_not_know_is_an_unknown_outcome)
{
    cr_assert_eq(cluster_err_to_error_code(999), ErrorCode_TIMEOUT);
    cr_assert_str_eq(cluster_strerror(999), "unknown cluster error");
}
