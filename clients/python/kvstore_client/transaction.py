"""Transactions in FoundationDB's style: read at one version, write locally, commit with the
keys read; a key that changed in between makes the commit fail with CONFLICT, and run() (or
the @transactional decorator) makes the whole function again."""
import functools
import random
import time

from .client import as_bytes, raise_for, ttypes
from .errors import ConflictError, TooOldError

_DELETED = object()


class Transaction:
    """Reads see the cluster at read_version and this transaction's own writes; nothing is
    written until commit()."""

    def __init__(self, client):
        self._client = client
        self.read_version = client.read_version()
        self._writes = {}          # key -> value, or _DELETED
        self._ops = []
        self._conflict_keys = []
        self._conflict_ranges = []

    def get(self, key):
        key = as_bytes(key)
        if key in self._writes:
            value = self._writes[key]
            return None if value is _DELETED else value
        self._conflict_keys.append(key)
        return self._client.snapshot_get(key, self.read_version)

    def range(self, begin, end=None, limit=0, reverse=False):
        """[(key, value)] at read_version (this transaction's own writes are not merged in)."""
        begin, end = as_bytes(begin), None if end is None else as_bytes(end)
        self._conflict_ranges.append(ttypes.KeyRange(begin_key=begin, end_key=end))
        return self._client.range(begin, end, limit, reverse, version=self.read_version)

    def set(self, key, value):
        key, value = as_bytes(key), as_bytes(value)
        self._writes[key] = value
        self._ops.append(ttypes.Operation(type=ttypes.OperationType.SET, key=key, value=value))

    def delete(self, key):
        key = as_bytes(key)
        self._writes[key] = _DELETED
        self._ops.append(ttypes.Operation(type=ttypes.OperationType.DELETE, key=key))

    def clear_range(self, begin, end):
        begin, end = as_bytes(begin), as_bytes(end)
        self._writes = {k: v for k, v in self._writes.items() if not begin <= k < end}
        self._ops.append(ttypes.Operation(type=ttypes.OperationType.CLEAR_RANGE, key=begin,
                                          end_key=end))

    def commit(self):
        """Commits the writes (in the client's session: a retry applies at most once); the
        committed version, or read_version when nothing was written. ConflictError when a key
        it read changed after read_version."""
        if not self._ops:
            return self.read_version

        def request(session):
            return ttypes.AtomicCommitRequest(
                read_version=self.read_version, operations=self._ops,
                read_conflict_keys=self._conflict_keys,
                read_conflict_ranges=self._conflict_ranges, session=session)
        return self._client.write("atomicCommit", request).committed_version


def run(client, fn, max_attempts=100):
    backoff = 0.005
    for attempt in range(max_attempts):
        tr = Transaction(client)
        try:
            result = fn(tr)
            tr.commit()
            return result
        except (ConflictError, TooOldError):
            if attempt + 1 == max_attempts:
                raise
        time.sleep(backoff * (0.5 + random.random()))
        backoff = min(backoff * 2, 0.5)


def transactional(fn):
    """Decorates fn(tr, ...): called with a Client it runs in a new transaction, made again on
    CONFLICT; called with a Transaction it joins that one (so transactional functions
    compose), as FoundationDB's @fdb.transactional does."""
    @functools.wraps(fn)
    def wrapper(db_or_tr, *args, **kwargs):
        if isinstance(db_or_tr, Transaction):
            return fn(db_or_tr, *args, **kwargs)
        return db_or_tr.run(lambda tr: fn(tr, *args, **kwargs))
    return wrapper
