"""test_tls.py: TLS on the Thrift port with certificates made by certs.sh at test time.
Usage: test_tls.py KVNODE KVCTL IDL BUILD_DIR CASE
  client   tls.client_auth require: kvctl with --cacert/--cert/--key works; no certificate,
           a certificate from the wrong CA, an expired one, plain text, and a client that does
           not trust the node are all refused, each with a clear log line, and the node keeps
           serving; the stock python3-thrift TSSLSocket client works.
  optional tls.client_auth optional: no certificate is fine, a bad one is refused.
  peers    3 nodes with mutual TLS between them (peer_tls.ca, the cluster CA): writes on every
           node (followers forward them over TLS links); a client's certificate cannot start
           the peer handshake; a node whose certificate the cluster CA did not issue is shut
           out (both ways, each logged) while the other two keep serving."""
import os
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
from nodes import Cluster, run, wait_for  # noqa: E402


def make_certs():
    d = tempfile.mkdtemp(prefix="kvtls-")
    subprocess.run(["sh", os.path.join(HERE, "certs.sh"), d], check=True, timeout=60)
    return d


def tls_args(certs, ca="ca", cert="client"):
    args = ["--cacert", os.path.join(certs, ca + ".pem")]
    if cert:
        args += ["--cert", os.path.join(certs, cert + ".pem"), "--key",
                 os.path.join(certs, cert + ".key")]
    return args


def log_has(node, text):
    with open(os.path.join(node.dir, "log"), errors="replace") as f:
        return text in f.read()


def refused(c, args, server_says, what):
    """One refusal on a node of its own: the node logs at most LOG_CLIENT_BURST client lines
    per 10 s, and a kvctl that retries a closed connection makes several."""
    f = Cluster(c.kvnode, 1, extra=c.extra).start()
    try:
        r = run(KVCTL, f.endpoints, *tls_args(c.certs), "set", "k", "v")
        assert r.returncode == 0, r.stderr
        r = run(KVCTL, f.endpoints, *args, "get", "k")
        assert r.returncode == 3, f"{what}: exit {r.returncode}: {r.stdout}{r.stderr}"
        node = f.nodes[0]
        wait_for(f"{what}: the log says '{server_says}'", lambda: log_has(node, server_says))
        ok = run(KVCTL, f.endpoints, *tls_args(c.certs), "get", "k")  # still serving
        assert ok.returncode == 0 and ok.stdout.strip() == "v", f"after {what}: {ok.stderr}"
        status, text = node.get("/metrics")
        line = [x for x in text.splitlines() if x.startswith("kvstore_connections_refused_total ")]
        assert line and float(line[0].split()[1]) >= 1, (what, line)
    except BaseException:
        f.keep_logs_on_failure()
        raise
    finally:
        f.stop()
    return r


def stock_client(c, certs, idl, build_dir):
    """(ttypes, client, transport) of the stock python3-thrift client over TSSLSocket (framed),
    open, with the good client certificate."""
    import kvgen
    from thrift.protocol import TBinaryProtocol
    from thrift.transport import TSSLSocket, TTransport
    ttypes, service = kvgen.load(idl, build_dir)
    host, port = c.nodes[0].addr.rsplit(":", 1)
    sock = TSSLSocket.TSSLSocket(host, int(port), cert_reqs=ssl.CERT_REQUIRED,
                                 ca_certs=os.path.join(certs, "ca.pem"),
                                 certfile=os.path.join(certs, "client.pem"),
                                 keyfile=os.path.join(certs, "client.key"))
    transport = TTransport.TFramedTransport(sock)
    client = service.Client(TBinaryProtocol.TBinaryProtocol(transport))
    transport.open()
    return ttypes, client, transport


def stock_python_client(c, certs, idl, build_dir):
    ttypes, client, transport = stock_client(c, certs, idl, build_dir)
    resp = client.setKey(ttypes.SetRequest(key=b"py", value=b"thrift over tls"))
    assert resp.success, resp
    got = client.get(ttypes.GetRequest(key=b"py"))
    assert got.found and got.value == b"thrift over tls", got
    transport.close()


def case_client(c, idl, build_dir):
    certs = c.certs
    r = run(KVCTL, c.endpoints, *tls_args(certs), "set", "k", "v")
    assert r.returncode == 0, r.stderr
    refused(c, tls_args(certs, cert=None), "peer did not return a certificate", "no certificate")
    refused(c, tls_args(certs, cert="wrong"), "certificate: unable to get local issuer", "wrong CA")
    refused(c, tls_args(certs, cert="expired"), "certificate: certificate has expired", "expired")
    refused(c, [], "wrong version number", "plain text")
    r = refused(c, tls_args(certs, ca="other-ca"), "alert unknown ca", "untrusted node")
    assert "unable to get local issuer certificate" in r.stderr, r.stderr
    stock_python_client(c, certs, idl, build_dir)


def case_optional(c, idl, build_dir):
    certs = c.certs
    r = run(KVCTL, c.endpoints, *tls_args(certs, cert=None), "set", "k", "v")
    assert r.returncode == 0, r.stderr  # no certificate: fine when optional
    refused(c, tls_args(certs, cert="wrong"), "certificate: unable to get local issuer", "wrong CA")


def peer_call_refused(c, certs, idl, build_dir):
    """A client with a valid client certificate calls peerChallenge: refused, logged."""
    ttypes, client, transport = stock_client(c, certs, idl, build_dir)
    try:
        client.peerChallenge(ttypes.PeerChallengeRequest(node_id="1"))
        raise AssertionError("a client's certificate started the peer handshake")
    except AssertionError:
        raise
    except Exception:  # TApplicationException, then the connection closes
        pass
    finally:
        transport.close()
    wait_for("the refusal in the log", lambda: log_has(c.nodes[0], "refused as a peer"))


def case_peers(c, idl, build_dir):
    certs = c.certs
    leader = c.leader()
    for i, n in enumerate(c.nodes):  # every node takes writes: followers forward over TLS
        r = run(KVCTL, n.addr, *tls_args(certs), "set", f"k{i}", f"v{i}")
        assert r.returncode == 0, f"node {i}: {r.stdout}{r.stderr}"
    for i, n in enumerate(c.nodes):  # linearizable reads: read index rounds over TLS
        r = run(KVCTL, n.addr, *tls_args(certs), "get", "k0")
        assert r.returncode == 0 and r.stdout.strip() == "v0", r.stdout + r.stderr
    peer_call_refused(c, certs, idl, build_dir)
    # Replace a follower by an impostor whose certificate the cluster CA did not issue.
    fake = (leader + 1) % 3
    other = 3 - leader - fake
    n = c.nodes[fake]
    n.kill()
    n.cfg["tls"]["cert"] = os.path.join(certs, "fake-node.pem")
    n.cfg["tls"]["key"] = os.path.join(certs, "fake-node.key")
    with open(n.config, "w") as f:
        __import__("json").dump(n.cfg, f)
    n.start()
    wait_for("the impostor refused as a peer", lambda: any(
        log_has(c.nodes[i], "refused as a peer: its certificate (/CN=kvstore test fake-node)")
        for i in (leader, other)))
    wait_for("the cluster's link to the impostor failing", lambda: log_has(
        c.nodes[leader], f"TLS to node {fake} failed"))
    for i in (leader, other):
        r = run(KVCTL, c.nodes[i].addr, *tls_args(certs), "set", "after", "impostor")
        assert r.returncode == 0, r.stdout + r.stderr
    assert n.json("/health")[1]["leader"] is None  # shut out: it never hears a leader


def main(kvnode, kvctl, idl, build_dir, case):
    global KVCTL
    KVCTL = kvctl
    certs = make_certs()
    auth = "optional" if case == "optional" else "require"
    extra = {"tls": {"cert": os.path.join(certs, "node.pem"),
                     "key": os.path.join(certs, "node.key"),
                     "ca": os.path.join(certs, "client-ca.pem"), "client_auth": auth}}
    if case == "peers":
        extra["peer_tls"] = {"ca": os.path.join(certs, "ca.pem")}
    c = Cluster(kvnode, 3 if case == "peers" else 1, extra=extra)
    c.certs, c.kvnode, c.extra = certs, kvnode, extra
    try:
        c.start()
        globals()["case_" + case](c, idl, build_dir)
    except BaseException:
        c.keep_logs_on_failure()
        raise
    finally:
        c.stop()
        subprocess.run(["rm", "-rf", certs])
    print(f"test_tls {case}: ok")


if __name__ == "__main__":
    main(*sys.argv[1:6])
