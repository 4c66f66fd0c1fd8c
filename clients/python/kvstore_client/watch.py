"""Watches: every committed change of a key or range, in order, as it happens.

A watch call answers with every change in (after_version, version]; the next one starts at
version, so nothing is missed and nothing repeated. It runs on a connection of its own (a
waiting watch holds back later answers on its connection), served by any node; when that node
goes away the watch goes on at another from the last version seen. Changes are kept for the
MVCC window: fall further behind and TooOldError says to read again.
"""
import collections
import time

from .client import as_bytes, raise_for, ttypes
from .errors import KvError

Event = collections.namedtuple("Event", "version key value")
Event.__doc__ = "One change: value is None for a delete."

WAIT_MS = 5000   # one call's wait; the connection's timeout must outlast it


def _query(key, prefix, begin, end):
    given = [key is not None, prefix is not None, begin is not None]
    if sum(given) != 1:
        raise ValueError("watch wants one of key, prefix, begin (with end)")
    if key is not None:
        return {"key": as_bytes(key)}
    if prefix is not None:
        begin = as_bytes(prefix)
        stripped = begin.rstrip(b"\xff")
        end = stripped[:-1] + bytes([stripped[-1] + 1]) if stripped else None
        return {"range": ttypes.KeyRange(begin_key=begin, end_key=end)}
    return {"range": ttypes.KeyRange(begin_key=as_bytes(begin),
                                     end_key=None if end is None else as_bytes(end))}


def watch(client, key, prefix, begin, end, after_version, timeout):
    query = _query(key, prefix, begin, end)
    after = client.read_version() if after_version is None else after_version
    deadline = None if timeout is None else time.monotonic() + timeout
    conn = client.connection()
    conn.timeout = max(conn.timeout, WAIT_MS / 1000.0 + 2)
    Code = ttypes.ErrorCode
    try:
        while deadline is None or time.monotonic() < deadline:
            wait = WAIT_MS if deadline is None else \
                max(1, min(WAIT_MS, int((deadline - time.monotonic()) * 1000)))
            resp, _ = conn.call("watch", ttypes.WatchRequest(after_version=after,
                                                             timeout_ms=wait, **query), True)
            if not resp.success:
                raise_for(resp, "watch")   # TooOldError: read again, watch from there
            for e in resp.events:
                yield Event(e.version, e.key, e.value)
            after = max(after, resp.version)
    except KvError:
        raise
    finally:
        conn.close()
