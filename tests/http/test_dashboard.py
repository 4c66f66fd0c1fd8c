"""test_dashboard.py: the dashboard in a real browser. Starts a 3-node cluster, opens a
follower's page in headless Debian chromium (driven over the DevTools protocol on a pipe:
--remote-debugging-pipe, so no websocket client is needed), checks that it names the leader,
SIGKILLs the leader and checks through the DOM that the page shows the new one within
DASHBOARD_NEW_LEADER_S. Keeps screenshots in ARTIFACTS.
Usage: test_dashboard.py KVNODE KVCTL ARTIFACTS"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from nodes import Cluster, run, wait_for  # noqa: E402

# The page polls every second and an election takes well under one; a loaded 2-core box
# may add a few seconds on top.
DASHBOARD_NEW_LEADER_S = 8.0
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--remote-debugging-pipe", "--window-size=1400,900"]


class Browser:
    """Chromium's DevTools protocol over fds 3 (commands in) and 4 (answers out), each
    message a JSON text ended by a NUL byte."""

    def __init__(self):
        exe = shutil.which("chromium")
        assert exe, "chromium not found: install Debian's chromium (tools/deps)"
        self.profile = tempfile.mkdtemp(prefix="kvdash-chromium-")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        os.set_inheritable(to_r, True)
        os.set_inheritable(from_w, True)

        def fds():  # the child's fd 3 reads our commands, its fd 4 writes the answers
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            [exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=self.log, stderr=self.log)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.session = None

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            assert time.monotonic() < deadline, "chromium did not answer in time"
            chunk = os.read(self.from_r, 1 << 16)
            assert chunk, "chromium closed the DevTools pipe"
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, timeout=30.0):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                assert "error" not in m, f"{method}: {m['error']}"
                return m["result"]

    def open(self, url):
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Page.navigate", {"url": url})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        return r["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (AssertionError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


DOM_STATE = """(() => {
  const rows = [...document.querySelectorAll('#nodes tbody tr')];
  return {leader: document.getElementById('leader').dataset.leader,
          changes: document.getElementById('leader-changes').textContent,
          status: document.getElementById('status').textContent,
          roles: rows.map(r => r.dataset.node + ':' + r.dataset.role)};
})()"""


def main(kvnode, kvctl, artifacts):
    os.makedirs(artifacts, exist_ok=True)
    c = Cluster(kvnode, 3).start()
    browser = None
    try:
        leader = c.leader()
        viewer = (leader + 1) % 3  # a follower serves the page and outlives the leader
        for i in range(20):  # some traffic for the charts
            assert run(kvctl, c.endpoints, "set", f"k{i}", "v").returncode == 0
        browser = Browser()
        browser.open(f"http://127.0.0.1:{c.nodes[viewer].http_port}/")
        st = wait_for("the page to name the leader", lambda: (
            lambda s: s if s and s["leader"] == str(leader) else None)(browser.eval(DOM_STATE)))
        assert f"{leader}:LEADER" in st["roles"], st
        assert st["status"].startswith("live"), st
        browser.screenshot(os.path.join(artifacts, "dashboard-before.png"))
        c.nodes[leader].kill()
        killed = time.monotonic()

        def new_leader():
            s = browser.eval(DOM_STATE)
            return s if s and s["leader"] not in ("", str(leader)) else None
        st = wait_for("the page to show a new leader", new_leader, DASHBOARD_NEW_LEADER_S)
        took = time.monotonic() - killed
        # The dead node is shown unreachable, the change is counted (and marked on charts).
        wait_for("the old leader shown unreachable", lambda: f"{leader}:UNREACHABLE" in
                 browser.eval(DOM_STATE)["roles"])
        st = browser.eval(DOM_STATE)
        assert int(st["changes"]) >= 1, st
        time.sleep(1.5)  # one more refresh so the screenshot has the mark on the charts
        browser.screenshot(os.path.join(artifacts, "dashboard-after.png"))
        print(f"dashboard: leader {leader} killed, page showed leader {st['leader']} after "
              f"{took:.1f} s; screenshots in {artifacts}")
    except BaseException:
        c.keep_logs_on_failure()
        raise
    finally:
        if browser:
            browser.close()
        c.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
