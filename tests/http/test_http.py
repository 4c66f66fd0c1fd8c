"""test_http.py: /metrics (checked by promtool, counters move under load), /health and /ready
on a standalone node and a 3-node cluster, and a snapshot transfer as /metrics, /api/cluster and
kvctl status show it. Usage: test_http.py KVNODE KVCTL CASE."""
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from nodes import Cluster, run, wait_for  # noqa: E402


def promtool_ok(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, f"promtool check metrics failed:\n{p.stdout}{p.stderr}"


def sample(text, name, labels=""):
    """The value of one sample line, e.g. sample(t, 'kvstore_requests_total',
    'method="get",code="OK"'); None when absent."""
    want = name + ("{" + labels + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split()[-1])
    return None


def metrics(node):
    status, text = node.get("/metrics")
    assert status == 200, f"/metrics answered {status}"
    promtool_ok(text)
    return text


def load(kvctl, endpoints, n):
    for i in range(n):
        r = run(kvctl, endpoints, "set", f"key{i}", f"value{i}")
        assert r.returncode == 0, r.stderr
        r = run(kvctl, endpoints, "get", f"key{i}")
        assert r.returncode == 0 and r.stdout.strip() == f"value{i}", r.stdout + r.stderr


def case_standalone(kvnode, kvctl):
    c = Cluster(kvnode, 1).start()
    node = c.nodes[0]
    before = metrics(node)
    load(kvctl, c.endpoints, 20)
    after = metrics(node)
    moved = {  # counters and histogram counts that 20 sets and 20 gets must raise
        ("kvstore_requests_total", 'method="setKey",code="OK"'): 20,
        ("kvstore_requests_total", 'method="get",code="OK"'): 20,
        ("kvstore_request_duration_seconds_count", 'method="setKey"'): 20,
        ("kvstore_wal_written_bytes_total", ""): 20 * 30,
        ("kvstore_wal_fsync_duration_seconds_count", ""): 1,
        ("kvstore_net_received_bytes_total", ""): 40 * 20,
        ("kvstore_net_sent_bytes_total", ""): 40 * 10,
        ("kvstore_connections_accepted_total", ""): 40,
    }
    for (name, labels), least in moved.items():
        b, a = sample(before, name, labels) or 0, sample(after, name, labels)
        assert a is not None and a - b >= least, f"{name}{{{labels}}}: {b} -> {a}, want +{least}"
    assert sample(after, "kvstore_store_keys") == 20
    assert sample(after, "kvstore_sessions") == 0  # kvctl closes the session of each write
    assert sample(after, "kvstore_consensus_role", 'role="standalone"') == 1
    assert sample(after, "process_resident_memory_bytes") > 0
    assert sample(after, "process_open_fds") > 0
    # A refused call is counted under its code.
    r = run(kvctl, c.endpoints, "set", "k" * 20000, "v")
    assert r.returncode == 3, r.stdout + r.stderr
    assert sample(metrics(node), "kvstore_requests_total",
                  'method="setKey",code="KEY_TOO_LARGE"') == 1
    for path in ("/health", "/ready"):
        status, body = node.json(path)
        assert status == 200 and body["reason"] == "", (path, status, body)
    assert node.get("/nope")[0] == 404
    status, page = node.get("/")
    assert status == 200 and "dashboard.js" in page
    hostile_http(node)
    c.stop()


def raw_http(port, data):
    """Sends data on a fresh connection; the first line of the answer ('' if closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(data)
            return s.recv(4096).decode(errors="replace").split("\r\n")[0]
        except (ConnectionError, socket.timeout):
            return ""


def hostile_http(node):
    """Oversized headers, a body, a method not allowed, garbage: refused, node keeps serving."""
    big = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    body = b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"b" * 5000
    cases = {"big headers": big, "body over the limit": body,
             "POST": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
             "garbage": b"\x80\x01\x00\x01 not http at all\r\n\r\n"}
    for what, data in cases.items():
        first = raw_http(node.http_port, data)
        assert not first.startswith("HTTP/1.1 200"), f"{what}: answered {first!r}"
        assert node.get("/health")[0] == 200, f"after {what}"


def case_cluster(kvnode, kvctl):
    c = Cluster(kvnode, 3).start()
    leader = c.leader()
    for n in c.nodes:
        wait_for(f"{n.name} healthy and ready", lambda: n.get("/health")[0] == 200 and
                 n.get("/ready")[0] == 200)
    # kvctl health asks every endpoint over Thrift and applies the same rules.
    r = run(kvctl, c.endpoints, "health")
    assert r.returncode == 0 and r.stdout.count("healthy") == 3, r.stdout + r.stderr
    load(kvctl, c.endpoints, 10)
    lm = metrics(c.nodes[leader])
    assert sample(lm, "kvstore_consensus_role", 'role="leader"') == 1
    assert sample(lm, "kvstore_consensus_proposals_committed_total") >= 10
    assert sample(lm, "kvstore_consensus_append_rtt_seconds_count") >= 10
    assert sample(lm, "kvstore_consensus_leader_changes_total") >= 1
    for i, n in enumerate(c.nodes):
        if i == leader:
            continue
        # The leader sees each follower's log: match index and lag, reachable.
        assert sample(lm, "kvstore_consensus_peer_reachable", f'peer="{i}"') == 1
        wait_for(f"node {i} caught up in the leader's metrics", lambda: sample(
            metrics(c.nodes[leader]), "kvstore_consensus_peer_lag_entries", f'peer="{i}"') == 0)
        # ... and how it replicates to it: streaming entries, no snapshot under way.
        assert replication_metrics(metrics(c.nodes[leader]), i) == ("replicate", 0, 0)
        fm = metrics(n)
        assert sample(fm, "kvstore_consensus_role", 'role="follower"') == 1
        assert sample(fm, "kvstore_consensus_leader_id") == leader
    # The cluster view gathers every node's own status through the peer links.
    status, view = c.nodes[(leader + 1) % 3].json("/api/cluster")
    assert status == 200 and len(view["nodes"]) == 3, view
    assert [n["role"] for n in view["nodes"]].count("LEADER") == 1, view
    assert all(n["reachable"] for n in view["nodes"]), view
    # A follower's page shows the leader's view of replication: each follower's match index.
    assert all("match_index" in n for i, n in enumerate(view["nodes"]) if i != leader), view
    assert all(n["replication"] == "replicate" and n["snapshot_bytes"] is None
               for i, n in enumerate(view["nodes"]) if i != leader), view
    # Many dashboards at once: each answer is whole (200) or a busy 503; consensus goes on.
    from concurrent.futures import ThreadPoolExecutor
    follower = c.nodes[(leader + 1) % 3]
    with ThreadPoolExecutor(max_workers=32) as pool:
        codes = list(pool.map(lambda _: follower.get("/api/cluster")[0], range(200)))
    assert set(codes) <= {200, 503} and codes.count(200) > 0, codes
    print(f"200 concurrent /api/cluster: {codes.count(200)} answered, {codes.count(503)} busy")
    r = run(kvctl, c.endpoints, "set", "after-many-dashboards", "v")
    assert r.returncode == 0, r.stderr
    # Kill the leader: the others lose it (503, no leader or a new one), then elect anew.
    c.nodes[leader].kill()
    new = c.leader(other_than=leader)
    status, view = c.nodes[new].json("/api/cluster")
    assert not view["nodes"][leader]["reachable"], view
    r = run(kvctl, c.endpoints, "--json", "health")
    assert r.returncode == 3, r.stdout + r.stderr
    verdicts = __import__("json").loads(r.stdout)
    assert [v["healthy"] for v in verdicts].count(False) == 1, verdicts
    assert verdicts[leader]["reason"] == "unreachable", verdicts
    for i, n in enumerate(c.nodes):
        if i != leader:
            wait_for(f"{n.name} healthy under the new leader", lambda: n.get("/health")[0] == 200)
    c.stop()


def replication_metrics(text, peer):
    """The leader's replication state of peer from /metrics, and the transfer's bytes."""
    states = [s for s in ("probe", "replicate", "snapshot") if sample(
        text, "kvstore_consensus_peer_replication_state", f'peer="{peer}",state="{s}"') == 1]
    return (states[0] if len(states) == 1 else states,
            sample(text, "kvstore_snapshot_transfer_sent_bytes", f'peer="{peer}"'),
            sample(text, "kvstore_snapshot_transfer_size_bytes", f'peer="{peer}"'))


def case_catchup(kvnode, kvctl):
    """A wiped follower (replaced by a new member, HACKING.md "Replace a dead node") brought
    back by a snapshot over a link held to 4 Mbit/s: while it
    streams, the leader's /metrics, the other follower's /api/cluster (the leader's view,
    through getClusterHealth) and kvctl status show the follower in the snapshot state with
    the bytes it acknowledged; once it caught up, it replicates and nothing is under way."""
    storage = {"snapshot_every_entries": 100, "snapshot_log_growth_percent": 0,
               "snapshot_log_min_bytes": 0, "snapshot_catchup_entries": 10}
    c = Cluster(kvnode, 3, extra={"storage": storage, "debug": {"fault_injection": True}})
    c.start()
    leader = c.leader()
    f, other = (leader + 1) % 3, (leader + 2) % 3
    keys = 120  # 64,000-byte values: a snapshot at 100 or more, 6.4 MB+: 13 s at 4 Mbit/s
    for i in range(keys):
        value = (f"{i:06d}" * 11000)[:64000]
        r = run(kvctl, c.nodes[leader].addr, "set", f"big{i:04d}", value)
        assert r.returncode == 0, r.stderr
    wait_for("a snapshot on the leader", lambda: sample(
        metrics(c.nodes[leader]), "kvstore_snapshot_index") >= 100)
    c.nodes[f].kill()  # a replaced disk: the machine comes back as a new member, id 3
    faults = os.path.join(c.nodes[leader].dir, "data", "faults")
    f = 3
    with open(faults + ".tmp", "w") as fh:
        fh.write(f"rate_kbps={f}:4000\n")
    os.rename(faults + ".tmp", faults)
    assert c.replace((leader + 1) % 3, kvctl) == f
    state = wait_for("the leader's metrics showing a transfer to the follower", lambda: (
        lambda st: st if st[0] == "snapshot" and st[1] and st[1] > 0 else None)(
            replication_metrics(metrics(c.nodes[leader]), f)))
    print(f"mid-transfer in /metrics: {state}")
    assert 0 < state[1] < state[2] and state[2] > 6_000_000, state  # 100 keys or more

    def api_view():
        status, view = c.nodes[other].json("/api/cluster")
        n = ([x for x in view["nodes"] if x["node_id"] == str(f)] or [{}])[0] \
            if status == 200 else {}
        return n if n.get("replication") == "snapshot" and n.get("snapshot_bytes_sent") else None
    n = wait_for("the other follower's /api/cluster showing the transfer", api_view)
    assert 0 < n["snapshot_bytes_sent"] < n["snapshot_bytes"] == state[2], n
    assert n["lag_entries"] > 0, n

    def kvctl_view():
        r = run(kvctl, c.endpoints, "--json", "status")
        rows = json.loads(r.stdout) if r.returncode == 0 else []
        row = [x for x in rows if x["node_id"] == str(f)]
        return row[0] if row and row[0].get("replication") == "snapshot" else None
    row = wait_for("kvctl status showing the transfer", kvctl_view)
    assert 0 < row["snapshot_bytes_sent"] <= row["snapshot_bytes"] == state[2], row
    print(f"in /api/cluster: {n['snapshot_bytes_sent']} of {n['snapshot_bytes']}; in kvctl "
          f"status: {row['snapshot_bytes_sent']} of {row['snapshot_bytes']}")
    os.remove(faults)
    wait_for("the follower replicating, caught up", lambda: replication_metrics(
        metrics(c.nodes[leader]), f) == ("replicate", 0, 0) and sample(
            metrics(c.nodes[leader]), "kvstore_consensus_peer_lag_entries", f'peer="{f}"') == 0,
        timeout=60)
    status, view = c.nodes[other].json("/api/cluster")
    n = [x for x in view["nodes"] if x["node_id"] == str(f)][0]
    assert n["replication"] == "replicate" and n["snapshot_bytes"] is None, n
    r = run(kvctl, c.nodes[f].addr, "--serializable", "get", f"big{keys - 1:04d}")
    assert r.returncode == 0 and r.stdout.startswith(f"{keys - 1:06d}"), r.stderr
    # The fault file was read every 25 ms; it was applied (and logged) when set and when gone.
    with open(os.path.join(c.nodes[leader].dir, "log"), errors="replace") as fh:
        applied = sum("fault injection: dropping" in line for line in fh)
    assert applied == 2, f"the fault file was applied {applied} times, not 2"
    c.stop()


def case_no_leader(kvnode, kvctl):
    """One node of three alone: no leader, so /health and /ready answer 503 with the reason,
    and kvstore_node_healthy says 0."""
    c = Cluster(kvnode, 3).start(which=[0])
    node = c.nodes[0]
    for path in ("/health", "/ready"):
        status, body = node.json(path)
        assert status == 503, (path, status, body)
        assert "no leader" in body["reason"], body
    assert sample(metrics(node), "kvstore_node_healthy") == 0
    r = run(kvctl, c.nodes[0].addr, "health")
    assert r.returncode == 3 and "no leader" in r.stdout, r.stdout + r.stderr
    c.stop()


if __name__ == "__main__":
    kvnode, kvctl, case = sys.argv[1:4]
    globals()["case_" + case](kvnode, kvctl)  # nodes die with this process (nodes.py)
    print(f"test_http {case}: ok")
