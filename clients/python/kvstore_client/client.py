"""Client: reads, writes that apply at most once, transactions and watches on a cluster."""
import time

from . import _stubs
from .connection import Connection
from .errors import (ConflictError, KvError, TooOldError, UnavailableError,
                     UnknownOutcomeError)

_STUBS = _stubs.load()
ttypes = _STUBS[0]
Code = ttypes.ErrorCode


def as_bytes(value):
    """Keys and values are bytes; str is taken as UTF-8."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"want bytes or str, not {type(value).__name__}")


def raise_for(resp, what):
    """Raises the error a failed response says (the right subclass of KvError)."""
    code = resp.error_code if resp.error_code is not None else Code.INTERNAL
    name = Code._VALUES_TO_NAMES.get(code, str(code))
    cls = {Code.CONFLICT: ConflictError, Code.TRANSACTION_TOO_OLD: TooOldError,
           Code.TIMEOUT: UnknownOutcomeError,
           Code.SESSION_EXPIRED: UnknownOutcomeError}.get(code, KvError)
    raise cls(code, name, f"{what}: {resp.error or name}", getattr(resp, "leader_hint", None))


class Client:
    """A connection to a cluster (any of its nodes; leader hints are followed).

    Writes go in a client session of the client's own: each is numbered, and a retry after a
    lost reply or a TIMEOUT is answered from the cluster's session table, so it applies at
    most once. One Client per thread (it is not thread-safe); use it as a context manager, or
    call close(), so its session ends at once instead of expiring.
    """

    def __init__(self, endpoints, timeout=5.0, retry_budget=10.0, session_timeout_ms=0):
        self._endpoints = endpoints
        self._timeout, self._budget = timeout, retry_budget
        self._conn = Connection(endpoints, _STUBS, timeout, retry_budget)
        self._session_timeout_ms = session_timeout_ms
        self._sid = None
        self._seq = 0
        self._session_used = 0.0
        self._session_idle_max = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Ends the session (one quick try: an open one expires anyway) and the connection."""
        if self._sid is not None:
            try:
                self._conn.retry_budget = min(self._budget, 1.0)
                self._conn.call("closeSession", ttypes.CloseSessionRequest(session_id=self._sid),
                                True)
            except KvError:
                pass
            self._sid = None
        self._conn.close()

    def connection(self):
        """Another connection to the same nodes (a watch takes one of its own)."""
        return Connection(self._endpoints, _STUBS, self._timeout, self._budget)

    def _read(self, method, request):
        resp, _ = self._conn.call(method, request, True)
        if not resp.success:
            raise_for(resp, method)
        return resp

    # ---------------------------------------------------------------- reads

    def read_version(self):
        """The cluster's current version (linearizable)."""
        return self._read("getReadVersion", ttypes.GetReadVersionRequest()).version

    def get(self, key, serializable=False):
        """key's value, or None. serializable: served by the node asked, maybe stale."""
        c = ttypes.Consistency.SERIALIZABLE if serializable else ttypes.Consistency.LINEARIZABLE
        resp = self._read("get", ttypes.GetRequest(key=as_bytes(key), consistency=c))
        return resp.value if resp.found else None

    def snapshot_get(self, key, version):
        """key's value at a version (None: not there)."""
        resp = self._read("snapshotRead",
                          ttypes.SnapshotReadRequest(key=as_bytes(key), read_version=version))
        return resp.value if resp.found else None

    def range(self, begin, end=None, limit=0, reverse=False, version=None):
        """[(key, value)] in [begin, end) (end None: to the end), at one version (the current
        one, or version), read in pages when it is long."""
        begin, end = as_bytes(begin), None if end is None else as_bytes(end)
        if version is None:
            version = self.read_version()
        out = []
        while True:
            want = limit - len(out) if limit else 0
            resp = self._read("snapshotGetRange", ttypes.SnapshotGetRangeRequest(
                begin_key=begin, end_key=end, read_version=version, limit=want,
                reverse=reverse))
            out += [(kv.key, kv.value) for kv in resp.key_values]
            if not resp.has_more or not resp.key_values or (limit and len(out) >= limit):
                return out
            last = resp.key_values[-1].key
            if reverse:
                end = last
            else:
                begin = last + b"\0"

    # --------------------------------------------------------------- writes

    def _session_ref(self):
        now = time.monotonic()
        if self._sid is None or now - self._session_used > self._session_idle_max:
            resp, _ = self._conn.call("openSession", ttypes.OpenSessionRequest(
                timeout_ms=self._session_timeout_ms), True)
            if not resp.success:
                raise_for(resp, "openSession")
            self._sid, self._seq = resp.session_id, 0
            self._session_idle_max = resp.timeout_ms / 2000.0   # half its timeout, in s
        self._seq += 1
        self._session_used = now
        # One call at a time: every earlier write of the session has its answer.
        return ttypes.SessionRef(session_id=self._sid, sequence=self._seq,
                                 acked_below=self._seq)

    def write(self, method, build):
        """Calls method(build(session_ref)) in the session, retried safely; the response."""
        for fresh in (True, False):
            ref = self._session_ref()
            try:
                resp, uncertain = self._conn.call(method, build(ref), True)
            except UnavailableError as e:
                raise UnknownOutcomeError(e.code, "UNKNOWN_OUTCOME",
                                          f"{e.message}; it applied at most once")
            if resp.success or resp.error_code != Code.SESSION_EXPIRED:
                if not resp.success:
                    raise_for(resp, method)
                return resp
            self._sid = None
            if uncertain or not fresh:
                raise_for(resp, method)   # an earlier try may have been applied
            # The session was gone before this write ever reached a log: send it again.
        raise AssertionError("unreachable")

    def set(self, key, value):
        """Writes key; returns the version it committed at."""
        k, v = as_bytes(key), as_bytes(value)
        return self.write("setKey", lambda s: ttypes.SetRequest(key=k, value=v,
                                                                session=s)).version

    def delete(self, key):
        """Deletes key; returns whether it was there."""
        k = as_bytes(key)
        return self.write("deleteKey", lambda s: ttypes.DeleteRequest(key=k, session=s)).found

    # ---------------------------------------------- transactions and watches

    def transaction(self):
        from .transaction import Transaction
        return Transaction(self)

    def run(self, fn, max_attempts=100):
        """fn(tr) in a transaction, committed; made again on CONFLICT (or a read version gone
        from the window), as FoundationDB's run does. Returns what fn returned."""
        from .transaction import run
        return run(self, fn, max_attempts)

    def watch(self, key=None, prefix=None, begin=None, end=None, after_version=None,
              timeout=None):
        """Iterates every change (watch.Event) of key, of the keys starting with prefix, or
        of [begin, end), after after_version (default: now), in order, for timeout seconds
        (default: for ever). See watch.py."""
        from .watch import watch
        return watch(self, key, prefix, begin, end, after_version, timeout)
