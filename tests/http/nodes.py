"""nodes.py: real kvnode processes with HTTP on for the tests in tests/http (Python is for
tests only). Ports are picked below the ephemeral range, as src/util/port_pick.c does."""
import copy
import ctypes
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

WAIT_S = 20.0  # every wait polls a condition against a deadline this long at most
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In the child before exec: a test that dies (an assertion, a timeout's SIGKILL) takes
    its nodes with it, as tests/server/node_proc.c does."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port(taken=()):
    """A port free now and not in taken (the ones already picked for the same cluster: each
    pick is released before the nodes bind, so two picks could otherwise agree)."""
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for _ in range(200):
        port = random.randrange(10000, max(10001, lo))
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def http_get(port, path, timeout=2.0):
    """(status, body text); status 0 when the node does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError):
        return 0, ""


def wait_for(what, cond, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Node:
    def __init__(self, kvnode, cfg, workdir, name):
        self.kvnode, self.cfg, self.name = kvnode, cfg, name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        cfg["data_dir"] = os.path.join(self.dir, "data")
        self.config = os.path.join(self.dir, "config.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.http_port = int(cfg["http"]["listen"].rsplit(":", 1)[1])
        self.addr = cfg["listen"]
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "log"), "ab")
        self.proc = subprocess.Popen([self.kvnode, "--config", self.config], stdout=log,
                                     stderr=log, preexec_fn=die_with_parent)
        wait_for(f"{self.name}'s HTTP port", lambda: self.alive() and
                 http_get(self.http_port, "/health")[0] != 0)

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}: "
                                 + self.log_tail())
        return True

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def log_tail(self, lines=20):
        with open(os.path.join(self.dir, "log"), errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def get(self, path):
        return http_get(self.http_port, path)

    def json(self, path):
        status, body = self.get(path)
        return status, json.loads(body) if body.strip().startswith("{") else None


class Cluster:
    """count == 1: a standalone node; else a replicated cluster of count nodes."""

    def __init__(self, kvnode, count, extra=None):
        self.workdir = tempfile.mkdtemp(prefix="kvnode-http-")
        picked = []
        for _ in range(2 * count):
            picked.append(free_port(picked))
        ports, http_ports = picked[:count], picked[count:]
        endpoints = [f"127.0.0.1:{p}" for p in ports]
        self.nodes = []
        for i in range(count):
            cfg = {"listen": endpoints[i], "log_level": "info",
                   "http": {"listen": f"127.0.0.1:{http_ports[i]}"}}
            if count > 1:
                cfg.update({"cluster_secret": "http-test-cluster-secret",
                            "deployment": {"mode": "replicated", "instance_id": str(i),
                                           "replica_endpoints": endpoints},
                            "consensus": {"election_timeout_ms": 300,
                                          "heartbeat_interval_ms": 50}})
            for k, v in (extra or {}).items():
                cfg[k] = copy.deepcopy(v)  # each node's own, to change one alone
            self.nodes.append(Node(kvnode, cfg, self.workdir, f"node{i}"))
        self.endpoints = ",".join(endpoints)

    def start(self, which=None):
        for i, n in enumerate(self.nodes):
            if which is None or i in which:
                n.start()
        return self

    def leader(self, other_than=None):
        """The node id every live node names as its leader, once they agree (on one that is
        not other_than)."""
        def agreed():
            seen = set()
            for n in self.nodes:
                if n.proc and n.proc.poll() is None:
                    body = n.json("/health")[1]
                    seen.add(body.get("leader") if body else None)
            ok = len(seen) == 1 and None not in seen and other_than not in seen
            return [seen.pop()] if ok else None
        return wait_for("one leader named by every live node", agreed)[0]

    def replace(self, i, kvctl):
        """HACKING.md "Replace a dead node" for stopped node i: remove member i, add a learner
        at its address (a new member id, an empty data dir, deployment.join, the same HTTP
        port) and start it. The new member's id (its index in nodes: ids only grow)."""
        old = self.nodes[i]
        live = ",".join(n.addr for n in self.nodes if n is not old and n.proc
                        and n.proc.poll() is None)
        wait_for(f"member {i} removed", lambda: run(
            kvctl, live, "member", "remove", str(i)).returncode == 0)
        added = []

        def add():
            r = run(kvctl, live, "member", "add-learner", old.addr)
            if r.returncode == 0:
                added.append(int(r.stdout.split()[3]))  # "OK added learner N at ..."
            return r.returncode == 0
        wait_for(f"a learner added at {old.addr}", add)
        new = added[0]
        assert new == len(self.nodes), f"member id {new}, {len(self.nodes)} nodes"
        cfg = copy.deepcopy(old.cfg)
        cfg["deployment"] = {"mode": "replicated",
                             "join": {"member_id": new, "endpoint": old.addr}}
        self.nodes.append(Node(old.kvnode, cfg, self.workdir, f"node{new}"))
        self.nodes[new].start()
        return new

    def stop(self):
        for n in self.nodes:
            n.kill(signal.SIGTERM)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def keep_logs_on_failure(self):
        for n in self.nodes:
            print(f"--- {n.name} log tail ---\n{n.log_tail()}")


def run(kvctl, endpoints, *args, stdin=None):
    return subprocess.run([kvctl, "-e", endpoints, *args], input=stdin, capture_output=True,
                          text=True, timeout=60)
