"""kvgen: Apache Thrift's own Python code for idl/kvstore.thrift, generated into the build dir.

Only tests use this (never the product's build). Debian's /usr/bin/thrift generates the code
once per IDL content into BUILD_DIR/gen-py-<hash>; python3-thrift (the stock library) runs
it. Anything missing is an error that says what to install: CI installs it, so we never skip.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

THRIFT = "/usr/bin/thrift"
INSTALL_HINT = "install thrift-compiler and python3-thrift (tools/deps does)"


def die(message):
    print("interop: " + message, file=sys.stderr)
    sys.exit(2)


def load(idl_path, build_dir):
    """Returns (ttypes, TransactionalKV) modules of the stock generated code."""
    try:
        import thrift  # noqa: F401  (the stock library, from python3-thrift)
    except ImportError:
        die("%s cannot import thrift: %s" % (sys.executable, INSTALL_HINT))
    if not os.access(THRIFT, os.X_OK):
        die("%s not found: %s" % (THRIFT, INSTALL_HINT))
    with open(idl_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    out = os.path.join(build_dir, "gen-py-" + digest)
    if not os.path.isdir(out):
        # Generate aside and rename, so tests running at once never see half a package.
        tmp = tempfile.mkdtemp(prefix="gen-py-tmp-", dir=build_dir)
        proc = subprocess.run([THRIFT, "--gen", "py", "-out", tmp, idl_path],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            die("%s failed on %s:\n%s%s" % (THRIFT, idl_path, proc.stdout, proc.stderr))
        try:
            os.rename(tmp, out)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another test won the race
    sys.path.insert(0, out)
    from kvstore import TransactionalKV, ttypes
    return ttypes, TransactionalKV
