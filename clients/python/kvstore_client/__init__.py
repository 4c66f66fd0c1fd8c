"""kvstore_client: a Python client for kvstore, on Debian's python3-thrift alone.

    from kvstore_client import connect, transactional
    with connect("127.0.0.1:9090,127.0.0.1:9091,127.0.0.1:9092") as db:
        db.set(b"k", b"v")         # in a client session: a retry applies at most once
        db.get(b"k")

Reads (get, range), writes (set, delete) retried safely across leader changes, transactions
(db.run(fn) and @transactional, made again on CONFLICT), and watches (db.watch(...)).
"""
from .client import Client
from .errors import (ConflictError, KvError, TooOldError, UnavailableError,
                     UnknownOutcomeError)
from .transaction import Transaction, transactional
from .watch import Event

__all__ = ["Client", "connect", "transactional", "Transaction", "Event", "KvError",
           "ConflictError", "TooOldError", "UnknownOutcomeError", "UnavailableError"]


def connect(endpoints, **options):
    """A Client for 'HOST:PORT[,HOST:PORT...]' (or a list); use it in a with statement."""
    return Client(endpoints, **options)
