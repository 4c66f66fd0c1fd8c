"""One Thrift connection that moves between a cluster's nodes as answers and failures say.

Retries follow the server's rules (idl/kvstore.thrift): NOT_LEADER, UNAVAILABLE and TIMEOUT
with a leader hint go straight to the hinted leader (a few hops, then with backoff); BUSY,
UNAVAILABLE and TIMEOUT without one wait and try the same node; SHUTTING_DOWN and a broken
connection move to the next node. A TIMEOUT or a broken connection after the call left may
mean the call was applied: those are retried only for calls that are safe to repeat (reads,
and writes in a client session). Everything else is the caller's answer.
"""
import random
import socket
import time

from thrift.Thrift import TApplicationException
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

from .errors import KvError, UnavailableError, UnknownOutcomeError

ENDPOINTS_MAX = 16
HOPS_FREE_MAX = 4
BACKOFF_FIRST_S = 0.05
BACKOFF_MAX_S = 1.0


def parse_endpoints(endpoints):
    """'HOST:PORT,HOST:PORT' or a list of them -> [(host, port), ...]."""
    items = endpoints.split(",") if isinstance(endpoints, str) else list(endpoints)
    out = []
    for item in items:
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"endpoint {item!r} is not HOST:PORT")
        out.append((host.strip("[]"), int(port)))
    if not out or len(out) > ENDPOINTS_MAX:
        raise ValueError(f"want 1 to {ENDPOINTS_MAX} endpoints")
    return out


class Connection:
    def __init__(self, endpoints, stubs, timeout, retry_budget):
        self.endpoints = parse_endpoints(endpoints)
        self.current = 0
        self.ttypes, self.service = stubs
        self.timeout = timeout
        self.retry_budget = retry_budget
        self.codes = self.ttypes.ErrorCode
        self.retryable = {self.codes.NOT_LEADER, self.codes.UNAVAILABLE, self.codes.TIMEOUT,
                          self.codes.BUSY, self.codes.SHUTTING_DOWN,
                          self.codes.FUTURE_VERSION}
        self._transport = self._client = None

    def endpoint(self):
        host, port = self.endpoints[self.current]
        return f"{host}:{port}"

    def close(self):
        if self._transport is not None:
            try:
                self._transport.close()
            except OSError:
                pass
        self._transport = self._client = None

    def _open(self):
        host, port = self.endpoints[self.current]
        sock = TSocket.TSocket(host, port)
        sock.setTimeout(self.timeout * 1000)
        transport = TTransport.TFramedTransport(sock)
        transport.open()
        self._transport = transport
        self._client = self.service.Client(TBinaryProtocol.TBinaryProtocol(transport))

    def _follow(self, hint):
        try:
            ep = parse_endpoints(hint)[0]
        except ValueError:
            return False
        if ep not in self.endpoints:
            if len(self.endpoints) == ENDPOINTS_MAX:
                self.endpoints.pop()
            self.endpoints.append(ep)
        self.current = self.endpoints.index(ep)
        self.close()
        return True

    def _next(self):
        self.close()
        self.current = (self.current + 1) % len(self.endpoints)

    def _judge(self, resp, state):
        """What to do after an answer: 'done', 'hint' (already followed), 'same' or 'next'."""
        code = resp.error_code if not resp.success and resp.error_code is not None else 0
        if code not in self.retryable:
            return "done"
        if code == self.codes.TIMEOUT:
            if not state["safe"]:
                return "done"          # it may have been applied: the caller says so
            state["uncertain"] = True
        hint = getattr(resp, "leader_hint", None)
        if code == self.codes.SHUTTING_DOWN:
            return "next"
        if hint and state["hops"] < HOPS_FREE_MAX and self._follow(hint):
            state["hops"] += 1
            return "hint"
        return "next" if code == self.codes.NOT_LEADER else "same"

    def call(self, method, request, safe):
        """(response, uncertain): the answer to method(request), made again as the rules say;
        uncertain: an earlier try may have been applied (it broke, or timed out, after it
        left). Raises UnavailableError when the budget is spent, UnknownOutcomeError when an
        unsafe call broke after it left."""
        deadline = time.monotonic() + self.retry_budget
        backoff = BACKOFF_FIRST_S
        state = {"safe": safe, "uncertain": False, "hops": 0}
        while True:
            sent = False
            try:
                if self._client is None:
                    self._open()
                sent = True
                resp = getattr(self._client, method)(request)
            except TApplicationException as e:
                self.close()
                raise KvError(self.codes.INTERNAL, "INTERNAL", f"{method}: {e.message}")
            except (TTransport.TTransportException, OSError, socket.timeout, EOFError) as e:
                self.close()
                if sent and not safe:
                    raise UnknownOutcomeError(self.codes.TIMEOUT, "UNKNOWN_OUTCOME",
                                              f"{method}: the connection broke after the call "
                                              f"left ({e}); it may have been applied")
                state["uncertain"] = state["uncertain"] or sent
                action, last = "next", str(e)
            else:
                action = self._judge(resp, state)
                if action == "done":
                    return resp, state["uncertain"]
                if action == "hint":
                    continue
                last = self.codes._VALUES_TO_NAMES.get(resp.error_code, str(resp.error_code))
            wait = backoff * (0.5 + random.random())   # jitter: many clients do not align
            if time.monotonic() + wait > deadline:
                raise UnavailableError(self.codes.UNAVAILABLE, "UNAVAILABLE",
                                       f"{method}: still failing after {self.retry_budget} s "
                                       f"({last})")
            time.sleep(wait)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
            if action == "next":
                self._next()
