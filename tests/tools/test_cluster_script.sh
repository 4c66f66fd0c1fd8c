#!/usr/bin/env bash
# test_cluster_script.sh: tools/cluster on ports picked here (--base-port) with its own run
# dir: up, a member removed (its process stopped), a new one added (a learner at the next
# free port, caught up, promoted), down with nothing left running.
# Args: the tools/cluster script. Env: KVSTORE_BUILD (the build dir).
set -euo pipefail
cluster=$1
export KVSTORE_RUN KVSTORE_NO_BUILD=1
KVSTORE_RUN=$(mktemp -d /tmp/kvcluster-test.XXXXXX)
kvctl=$KVSTORE_BUILD/tools/kvctl/kvctl
fail() { echo "FAIL: $*" >&2; for f in "$KVSTORE_RUN"/*.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }
cleanup() {
  "$cluster" down >/dev/null 2>&1 || true
  for p in "$KVSTORE_RUN"/*.pid; do [ -e "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null; done
  rm -rf "$KVSTORE_RUN"
}
trap cleanup EXIT
# Running and not a zombie (the nodes' parent, tools/cluster, is gone: nobody may reap them).
running() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# Three consecutive free ports below the ephemeral range.
base=$(/usr/bin/python3 - <<'PY'
import random, socket
rng = random.Random()
for _ in range(200):
    base = rng.randrange(20000, 30000)
    socks = []
    try:
        for p in range(base, base + 3):
            s = socket.socket(); socks.append(s); s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks: s.close()
    print(base); break
PY
)
[ -n "$base" ] || fail "no three free ports"
eps=127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))
"$cluster" --base-port "$base" up >"$KVSTORE_RUN/up.out" 2>&1 || fail "up: $(cat "$KVSTORE_RUN/up.out")"
grep -q "voters 0 1 2; learners -" "$KVSTORE_RUN/up.out" || fail "up's status: $(cat "$KVSTORE_RUN/up.out")"
pid2=$(cat "$KVSTORE_RUN/node2.pid")
out=$("$cluster" remove 2 2>&1) || fail "remove 2: $out"
case $out in *"OK removed 2; voters 0 1; learners -"*) ;; *) fail "remove 2 said: $out" ;; esac
! running "$pid2" || fail "node 2 still runs after its removal"
[ -f "$KVSTORE_RUN/removed-node2.json" ] && [ ! -f "$KVSTORE_RUN/node2.json" ] || fail "node 2's config"
out=$("$kvctl" -e "$eps" member list 2>&1) || fail "member list: $out"
case $out in *"127.0.0.1:$((base + 2))"*) fail "node 2 is still listed: $out" ;; esac
"$kvctl" -e "$eps" set k v >/dev/null || fail "the two left do not commit"
out=$("$cluster" add 2>&1) || fail "add: $out"
case $out in *"OK promoted 3; voters 0 1 3; learners -"*) ;; *) fail "add said: $out" ;; esac
grep -q '"join"' "$KVSTORE_RUN/node3.json" || fail "node 3's config has no deployment.join"
cid=$("$kvctl" -e "$eps" --json member list | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster_id"])')
[[ "$cid" =~ ^[0-9a-f]{16}$ ]] || fail "member list names no cluster id: '$cid'"
/usr/bin/python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["deployment"]["join"]["cluster_id"] == sys.argv[2]' \
  "$KVSTORE_RUN/node3.json" "$cid" || fail "node 3's deployment.join does not name cluster $cid"
eps=$eps,$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listen"])' "$KVSTORE_RUN/node3.json")
out=$("$kvctl" -e "$eps" status 2>&1) || fail "status: $out"
case $out in *"voters 0 1 3; learners -"*) ;; *) fail "status after add: $out" ;; esac
"$kvctl" -e "$eps" set k2 v >/dev/null || fail "no commit after the add"
out=$("$cluster" remove 7 2>&1) && fail "remove 7 worked: $out"
case $out in *"no node '7'"*) ;; *) fail "remove 7 said: $out" ;; esac
pids=$(cat "$KVSTORE_RUN"/node*.pid)
"$cluster" down >/dev/null
for p in $pids; do ! running "$p" || fail "pid $p still runs after down"; done
echo "tools/cluster: up on $base, remove, add, down: ok"
