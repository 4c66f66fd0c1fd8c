// The kvstore dashboard: polls /api/cluster every second, fills the node table, and draws
// writes/s, reads/s and p99 for the last 5 minutes with leader changes marked. No libraries.
"use strict";

const POLL_MS = 1000;
const WINDOW_MS = 5 * 60 * 1000;
const samples = [];        // {t, writes, reads, p99ms}
const leaderMarks = [];    // {t, label}
let lastLeader = null;     // "id/term" of the last leader shown
let changes = 0;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// The leader: a reachable node that says it leads, at the highest term among those.
function findLeader(nodes) {
  let best = null;
  for (const n of nodes)
    if (n.reachable && n.role === "LEADER" && (!best || n.term > best.term)) best = n;
  return best;
}

// How the leader replicates to a follower: "replicate, 3 behind, ", "snapshot 12.0 of 338.1 MiB, ".
function replication(n) {
  if (!n.replication) return "";
  const mib = b => (b / 1048576).toFixed(1);
  let s = n.replication;
  if (n.snapshot_bytes > 0) s += " " + mib(n.snapshot_bytes_sent) + " of " + mib(n.snapshot_bytes) + " MiB";
  else if (n.lag_entries !== null && n.lag_entries !== undefined) s += ", " + n.lag_entries + " behind";
  return s + ", ";
}

function renderTable(nodes, leader) {
  const body = document.querySelector("#nodes tbody");
  body.replaceChildren();
  const commit = Math.max(0, ...nodes.filter(n => n.reachable).map(n => n.commit_index));
  for (const n of nodes) {
    const tr = el("tr");
    tr.dataset.node = n.node_id;
    tr.dataset.role = n.reachable ? n.role : "UNREACHABLE";
    if (leader && n.node_id === leader.node_id) tr.className = "leader";
    if (!n.reachable) tr.className = "down";
    const lag = n.reachable ? Math.max(0, commit - n.applied_index) : "";
    let repl = n.reachable ? "in contact" : "unreachable: " + (n.error || "");
    if (n.match_index !== undefined && leader && n.node_id !== leader.node_id)
      repl = (n.reachable ? "" : "unreachable; ") + replication(n) + "match " + n.match_index + (n.last_contact_ms >= 0 ? ", heard " + n.last_contact_ms + " ms ago" : ", never heard");
    const health = !n.reachable ? "" : n.healthy ? (n.ready ? "healthy, ready" : "healthy")
                                                 : "unhealthy: " + (n.health_reason || "");
    const cells = [n.node_id, n.endpoint, n.reachable ? n.role : "—", n.term ?? "",
                   n.commit_index ?? "", n.applied_index ?? "", n.last_log_index ?? "", lag, repl,
                   health, n.reads_per_second ?? "", n.writes_per_second ?? "",
                   n.latency_p99_us ? (n.latency_p99_us / 1000).toFixed(2) + " ms" : ""];
    cells.forEach((c, i) => tr.appendChild(el("td", String(c), i === 9 && n.reachable && !n.healthy ? "bad-text" : "")));
    body.appendChild(tr);
  }
}

function record(nodes, leader, t) {
  const up = nodes.filter(n => n.reachable);
  const sum = k => up.reduce((s, n) => s + (n[k] || 0), 0);
  samples.push({t, writes: sum("writes_per_second"), reads: sum("reads_per_second"),
                p99ms: Math.max(0, ...up.map(n => (n.latency_p99_us || 0) / 1000))});
  const key = leader ? leader.node_id + "/" + leader.term : null;
  if (key && key !== lastLeader) {
    if (lastLeader !== null) {
      changes++;
      leaderMarks.push({t, label: "leader " + leader.node_id});
    }
    lastLeader = key;
  }
  while (samples.length && samples[0].t < t - WINDOW_MS) samples.shift();
  while (leaderMarks.length && leaderMarks[0].t < t - WINDOW_MS) leaderMarks.shift();
}

function drawChart(id, key, now) {
  const canvas = document.getElementById(id);
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const g = canvas.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const left = 48, bottom = h - 18, top = 8, right = w - 8;
  const max = Math.max(1, ...samples.map(s => s[key])) * 1.1;
  const x = t => left + (right - left) * (1 - (now - t) / WINDOW_MS);
  const y = v => bottom - (bottom - top) * v / max;
  g.strokeStyle = "#e5e7eb"; g.fillStyle = "#6b7280"; g.font = "11px system-ui";
  for (let i = 0; i <= 4; i++) {
    const v = max * i / 4;
    g.beginPath(); g.moveTo(left, y(v)); g.lineTo(right, y(v)); g.stroke();
    g.fillText(v >= 100 ? v.toFixed(0) : v.toFixed(1), 2, y(v) + 4);
  }
  g.fillText("-5 min", left, h - 4); g.fillText("now", right - 22, h - 4);
  g.setLineDash([4, 3]); g.strokeStyle = "#b45309"; g.fillStyle = "#b45309";
  for (const m of leaderMarks) {
    g.beginPath(); g.moveTo(x(m.t), top); g.lineTo(x(m.t), bottom); g.stroke();
    g.fillText(m.label, x(m.t) + 3, top + 10);
  }
  g.setLineDash([]); g.strokeStyle = "#2563eb"; g.lineWidth = 1.5;
  g.beginPath();
  samples.forEach((s, i) => i ? g.lineTo(x(s.t), y(s[key])) : g.moveTo(x(s.t), y(s[key])));
  g.stroke();
}

function show(data) {
  const nodes = data.nodes || [];
  const leader = findLeader(nodes);
  const now = Date.now();
  record(nodes, leader, now);
  const ld = document.getElementById("leader");
  ld.textContent = leader ? leader.node_id + " (" + leader.endpoint + ")" : "none";
  ld.dataset.leader = leader ? leader.node_id : "";
  document.getElementById("term").textContent = leader ? leader.term : "?";
  document.getElementById("leader-changes").textContent = changes;
  renderTable(nodes, leader);
  for (const [id, key] of [["chart-writes", "writes"], ["chart-reads", "reads"], ["chart-p99", "p99ms"]])
    drawChart(id, key, now);
}

function setStatus(text, ok) {
  const s = document.getElementById("status");
  s.textContent = text;
  s.className = "status " + (ok ? "ok" : "bad");
  document.body.dataset.updated = String(Date.now());
}

async function poll() {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 2 * POLL_MS);
  try {
    const r = await fetch("api/cluster", {cache: "no-store", signal: ctl.signal});
    if (!r.ok) throw new Error("HTTP " + r.status);
    show(await r.json());
    setStatus("live " + new Date().toLocaleTimeString(), true);
  } catch (e) {
    setStatus("no answer from this node: " + e.message, false);
  } finally {
    clearTimeout(timer);
    setTimeout(poll, POLL_MS);
  }
}

poll();
