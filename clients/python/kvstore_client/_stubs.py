"""The Thrift code for idl/kvstore.thrift, made by Debian's Apache Thrift compiler.

Nothing generated is kept in the repository. The first import generates it (with
/usr/bin/thrift, package thrift-compiler) into a cache directory named after the IDL's
content, so a changed IDL gets fresh code; python3-thrift runs it. KVSTORE_IDL names the IDL
file (default: idl/kvstore.thrift of the checkout this package sits in) and KVSTORE_GEN_DIR
the cache (default: $XDG_CACHE_HOME/kvstore-client, else ~/.cache/kvstore-client).
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

THRIFT = os.environ.get("KVSTORE_THRIFT", "/usr/bin/thrift")
_HERE = os.path.dirname(os.path.abspath(__file__))


def _idl_path():
    path = os.environ.get("KVSTORE_IDL") or os.path.join(_HERE, "..", "..", "..", "idl",
                                                         "kvstore.thrift")
    if not os.path.isfile(path):
        raise ImportError(f"kvstore_client: no IDL at {path} (set KVSTORE_IDL)")
    return os.path.abspath(path)


def _cache_dir():
    if os.environ.get("KVSTORE_GEN_DIR"):
        return os.environ["KVSTORE_GEN_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kvstore-client")


def _generate(idl, out):
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="gen-py-tmp-", dir=parent)
    try:
        proc = subprocess.run([THRIFT, "--gen", "py", "-out", tmp, idl], capture_output=True,
                              text=True)
    except FileNotFoundError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ImportError(f"kvstore_client: {THRIFT} not found: install thrift-compiler")
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ImportError(f"kvstore_client: {THRIFT} failed on {idl}:\n{proc.stderr}")
    try:
        os.rename(tmp, out)   # whole, or not at all: a process importing at once never sees half
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)   # another process won the race


def load():
    """Returns (ttypes, TransactionalKV) of the generated code."""
    try:
        import thrift  # noqa: F401  (Debian's python3-thrift)
    except ImportError:
        raise ImportError("kvstore_client needs python3-thrift (apt-get install python3-thrift)")
    idl = _idl_path()
    with open(idl, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    out = os.path.join(_cache_dir(), "gen-py-" + digest)
    if not os.path.isdir(out):
        _generate(idl, out)
    if out not in sys.path:
        sys.path.insert(0, out)
    from kvstore import TransactionalKV, ttypes
    return ttypes, TransactionalKV
