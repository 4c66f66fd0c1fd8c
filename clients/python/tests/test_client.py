"""test_client.py: kvstore_client against a real 3-node cluster, with /usr/bin/python3 and
Debian's python3-thrift. Usage: test_client.py KVNODE REPO_ROOT GEN_DIR CASE.

Cases: basics (reads and writes through any node, leader hints, context manager ends the
session), lost_reply (a proxy loses the first reply to a write: the retry applies once),
conflicts (threads incrementing one counter with run(): every increment counted once),
failover (the leader killed during writes and a watch: every write applied once, in order,
and the watcher sees each), readme (the README's example runs as written)."""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading

KVNODE, ROOT, GEN_DIR, CASE = sys.argv[1:5]
os.environ["KVSTORE_GEN_DIR"] = GEN_DIR
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
from kvstore_client import Client, connect, transactional  # noqa: E402
from nodes import Cluster, wait_for  # noqa: E402


def metric(node, name):
    status, text = node.get("/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def cluster():
    c = Cluster(KVNODE, 3).start()
    c.leader()
    return c


def follower_first(c):
    """The endpoints with a follower first: writes are forwarded, hints followed."""
    leader = int(c.leader())
    order = [i for i in range(3) if i != leader] + [leader]
    return ",".join(c.nodes[i].addr for i in order)


def case_basics():
    c = cluster()
    with connect(follower_first(c)) as db:
        v1 = db.set(b"a", b"1")
        v2 = db.set("b", "2")
        assert v2 > v1
        assert db.get("a") == b"1" and db.get("nothing") is None
        assert db.get("b", serializable=True) in (b"2", None)  # a follower may lag
        assert db.range("a", "c") == [(b"a", b"1"), (b"b", b"2")]
        assert db.range("a", None, reverse=True, limit=1) == [(b"b", b"2")]
        assert db.delete("a") is True and db.delete("a") is False
        for i in range(300):   # more than one page: read in pages at one version
            db.set(f"p/{i:04}", "x" * 100)
        assert len(db.range("p/", "p0")) == 300
        leader = c.nodes[int(c.leader())]
        assert metric(leader, "kvstore_sessions") == 1, "one session for all those writes"
    wait_for("the session closed on exit", lambda: metric(leader, "kvstore_sessions") == 0)
    c.stop()


class LosingProxy:
    """Between the client and a node: passes calls on, but for the first call of `method` it
    waits for the node's answer and then drops the client's connection instead of relaying
    it. The write happened; the client cannot know."""

    def __init__(self, target, method):
        host, port = target.rsplit(":", 1)
        self.target, self.method, self.dropped = (host, int(port)), method.encode(), 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    @staticmethod
    def frame(s):
        head = b""
        while len(head) < 4:
            part = s.recv(4 - len(head))
            if not part:
                return None
            head += part
        n = struct.unpack(">I", head)[0]
        body = b""
        while len(body) < n:
            part = s.recv(n - len(body))
            if not part:
                return None
            body += part
        return head + body

    def serve(self):
        while True:
            client, _ = self.sock.accept()
            node = socket.create_connection(self.target)
            while True:
                call = self.frame(client)
                if call is None:
                    break
                node.sendall(call)
                reply = self.frame(node)
                # the method name follows the 4-byte frame length, version and name length
                if self.dropped == 0 and call[12:12 + len(self.method)] == self.method:
                    self.dropped += 1
                    break
                client.sendall(reply)
            client.close()
            node.close()


def case_lost_reply():
    c = cluster()
    leader = c.nodes[int(c.leader())].addr
    with connect(leader) as db:
        db.set("gone", "x")
        db.set("ctr", "0")
    for method in ("deleteKey", "atomicCommit", "setKey"):
        proxy = LosingProxy(leader, method)
        with connect(proxy.addr, retry_budget=10) as db:
            if method == "deleteKey":
                assert db.delete("gone") is True, "applied twice, the retry found nothing"
            elif method == "atomicCommit":
                @transactional
                def incr(tr):
                    tr.set("ctr", str(int(tr.get("ctr")) + 1))
                incr(db)   # twice would be 2 (or a CONFLICT the caller never sees)
            else:
                db.set("s", "x")
        assert proxy.dropped == 1, method
    with connect(leader) as db:
        assert db.get("gone") is None and db.get("ctr") == b"1" and db.get("s") == b"x"
    c.stop()


def case_conflicts():
    c = cluster()
    endpoints = c.endpoints
    attempts = []

    def worker():
        with connect(endpoints) as db:
            for _ in range(15):
                def incr(tr):
                    attempts.append(1)
                    tr.set("n", str(int(tr.get("n") or b"0") + 1))
                db.run(incr)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with connect(endpoints) as db:
        assert db.get("n") == b"60", db.get("n")
    print(f"conflicts: {len(attempts) - 60} retries for 60 increments")
    # A write between a transaction's read and its commit: CONFLICT, and run() makes the
    # function again at a new read version.
    with connect(endpoints) as db, connect(endpoints) as other:
        calls = []

        def incr(tr):
            calls.append(tr.read_version)
            n = int(tr.get("n"))
            if len(calls) == 1:
                other.set("n", "100")
            tr.set("n", str(n + 1))
        db.run(incr)
        assert len(calls) == 2 and calls[1] > calls[0], calls
        assert db.get("n") == b"101"
    c.stop()


def case_failover():
    c = cluster()
    endpoints = c.endpoints
    seen, errors = [], []
    with connect(endpoints) as db:
        start = db.set("w", "start")

    def watcher():
        try:
            with Client(endpoints) as w:
                for ev in w.watch("w", after_version=start, timeout=60):
                    seen.append((ev.version, ev.value))
                    if ev.value == b"v29":
                        return
        except Exception as e:  # reported below
            errors.append(e)
    t = threading.Thread(target=watcher)
    t.start()
    versions = []
    with connect(endpoints) as db:
        for i in range(30):
            if i == 10:
                old = c.leader()
                c.nodes[int(old)].kill(signal.SIGKILL)
                c.leader(other_than=old)
            if i == 20:
                c.nodes[int(old)].start()
            versions.append(db.set("w", f"v{i}"))
    t.join(90)
    assert not errors, errors
    assert versions == sorted(versions) and len(set(versions)) == 30
    assert seen == [(v, f"v{i}".encode()) for i, v in enumerate(versions)], seen
    c.stop()


def case_readme():
    """The README's Python example, run as written against this cluster."""
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert blocks, "the README has a python example"
    c = cluster()
    env = dict(os.environ, KVSTORE_ENDPOINTS=c.endpoints,
               PYTHONPATH=os.path.join(ROOT, "clients", "python"))
    for code in blocks:
        p = subprocess.run(["/usr/bin/python3", "-c", code], env=env, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        print(p.stdout, end="")
    c.stop()


if __name__ == "__main__":
    globals()["case_" + CASE]()   # nodes die with this process (nodes.py)
    print(f"test_client {CASE}: ok")
