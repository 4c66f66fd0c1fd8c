/* kvctl_session.c: every write kvctl may retry goes in a client session of its own, so a retry
   after a lost reply or a TIMEOUT is answered from the cluster's session table instead of
   being applied a second time. */
#include "kvctl.h"

/* kvctl makes one write per run: a short idle timeout is plenty, and it closes the session
   after the write anyway (a session left behind by a crash expires on its own). */
#define KVCTL_SESSION_TIMEOUT_MS 60000

int kvctl_session_open(struct kvctl *k, SessionRef *ref)
{
    OpenSessionRequest q;
    OpenSessionRequest_init(&q);
    q.has_timeout_ms = true;
    q.timeout_ms = KVCTL_SESSION_TIMEOUT_MS;
    TransactionalKV_openSession_result res;
    TransactionalKV_openSession_result_init(&res);
    int rc;
    /* A retried open may open two sessions; the one not used expires. */
    KVCTL_CALL_RETRY(rc, k, openSession, &q, &res, true);
    const OpenSessionResponse *o = &res.success;
    if (rc == KVCTL_OK && !o->success)
        rc = kvctl_server_error("open session", o->has_error, &o->error, o->has_error_code,
                                o->error_code);
    else if (rc == KVCTL_OK && !o->has_session_id)
        rc = kvctl_call_failed("openSession", TP_ERR_MISSING_RESULT, NULL);
    if (rc == KVCTL_OK) {
        SessionRef_init(ref);
        ref->session_id = o->session_id;
        ref->sequence = 1;
    }
    TransactionalKV_openSession_result_free(&res);
    return rc;
}

void kvctl_session_close(struct kvctl *k, const SessionRef *ref)
{
    CloseSessionRequest q;
    CloseSessionRequest_init(&q);
    q.session_id = ref->session_id;
    TransactionalKV_closeSession_result res;
    TransactionalKV_closeSession_result_init(&res);
    int rc;
    /* One try: the write's outcome is printed already, and a session left open expires. */
    KVCTL_CALL(rc, k, closeSession, &q, &res);
    (void)rc;
    TransactionalKV_closeSession_result_free(&res);
}
