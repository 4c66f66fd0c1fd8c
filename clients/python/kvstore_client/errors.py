"""The errors kvstore_client raises: the server's ErrorCode, named."""


class KvError(Exception):
    """A call failed; code is the server's ErrorCode number (name: its name)."""

    def __init__(self, code, name, message="", leader_hint=None):
        super().__init__(f"{name}: {message}" if message and message != name else name)
        self.code, self.name, self.message, self.leader_hint = code, name, message, leader_hint


class ConflictError(KvError):
    """A transaction read a key that changed before it committed (run() retries it)."""


class TooOldError(KvError):
    """A read version (or a watch's after_version) fell out of the MVCC window: read again."""


class UnknownOutcomeError(KvError):
    """A write may or may not have been applied (never twice): its session is gone, or it was
    sent without a session and the reply was lost."""


class UnavailableError(KvError):
    """No node answered within the retry budget."""
