# bench/lib.sh: what the bench scenario scripts share: build, temp dirs, nodes up and down.
# Sourced, not run. Every server listens on 127.0.0.1 only, keeps its data in a temp dir, and
# is stopped by the EXIT trap, whatever happens.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${KVBENCH_BUILD:-$top/build-bench}
kvbench=$build/bench/kvbench/kvbench
kvnode=$build/src/server/kvnode
bench_tmp=$(mktemp -d /tmp/kvbench.XXXXXX)
bench_pids=()
# Ports: a base per script run, so parallel runs and tools/cluster (9090..) do not collide;
# below the kernel's ephemeral range (32768..), so no outgoing connection holds a node's port.
bench_port=${KVBENCH_PORT:-$((10000 + ($$ % 2000) * 10))}

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${bench_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$bench_tmp"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Builds the release binaries the scenarios run, in their own build dir.
bench_build() {
  "$top/tools/deps" --bench
  [ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release >/dev/null
  ninja -C "$build" bench/kvbench/kvbench src/server/kvnode tools/kvctl/kvctl >/dev/null
}

# bench_fsync_json always|never|MS -> the JSON value of storage.fsync.
bench_fsync_json() {
  case $1 in
    always | never) echo "\"$1\"" ;;
    '' | *[!0-9]*) echo "bench: bad fsync '$1'" >&2; return 2 ;;
    *) echo "$1" ;;
  esac
}

# bench_single_config NAME PORT FSYNC -> path of a standalone config with a fresh data dir.
bench_single_config() {
  local dir=$bench_tmp/$1 fs
  fs=$(bench_fsync_json "$3") || return 2
  mkdir -p "$dir/data"
  sed -e "s|\"listen\": *\"[^\"]*\"|\"listen\": \"127.0.0.1:$2\"|" \
      -e "s|\"data_dir\": *\"[^\"]*\"|\"data_dir\": \"$dir/data\"|" \
      -e "s|\"log_level\": *\"[^\"]*\"|\"log_level\": \"warn\"|" \
      -e "s|\"fsync\": *[^,}]*|\"fsync\": $fs|" \
      "$top/config/single.json" >"$dir/config.json"
  echo "$dir/config.json"
}

# bench_cluster_configs NAME PORT FSYNC: writes NAME/node{0,1,2}.json for a 3-node cluster on
# ports PORT..PORT+2. From config/node*.json when they exist (ports and data dirs rewritten),
# else from the keys DESIGN.md names. Prints the endpoints, comma-separated.
bench_cluster_configs() {
  local dir=$bench_tmp/$1 port=$2 fs i eps=() olds=()
  fs=$(bench_fsync_json "$3") || return 2
  mkdir -p "$dir"
  for i in 0 1 2; do eps+=("127.0.0.1:$((port + i))"); mkdir -p "$dir/data$i"; done
  if [ -f "$top/config/node0.json" ]; then
    for i in 0 1 2; do
      olds+=("$(sed -n 's/.*"listen": *"\([^"]*\)".*/\1/p' "$top/config/node$i.json")")
    done
    for i in 0 1 2; do
      sed -e "s|\"${olds[0]}\"|\"${eps[0]}\"|g" -e "s|\"${olds[1]}\"|\"${eps[1]}\"|g" \
          -e "s|\"${olds[2]}\"|\"${eps[2]}\"|g" \
          -e "s|\"data_dir\": *\"[^\"]*\"|\"data_dir\": \"$dir/data$i\"|" \
          -e "s|\"log_level\": *\"[^\"]*\"|\"log_level\": \"warn\"|" \
          -e "s|\"fsync\": *[^,}]*|\"fsync\": $fs|" \
          "$top/config/node$i.json" >"$dir/node$i.json"
    done
  else
    for i in 0 1 2; do
      cat >"$dir/node$i.json" <<JSON
{
  "listen": "${eps[$i]}",
  "data_dir": "$dir/data$i",
  "log_level": "warn",
  "cluster_secret": "kvbench-local-secret",
  "deployment": {
    "mode": "replicated",
    "instance_id": "node$i",
    "replica_endpoints": ["${eps[0]}", "${eps[1]}", "${eps[2]}"]
  },
  "consensus": { "election_timeout_ms": 300, "heartbeat_interval_ms": 50 },
  "storage": { "fsync": $fs }
}
JSON
    done
  fi
  (IFS=,; echo "${eps[*]}")
}

# bench_cluster_start NAME ENDPOINTS: starts the 3 nodes of NAME; 1 when replicated mode is
# not there (a node exits) or no write is acknowledged within 30 s.
bench_cluster_start() {
  local dir=$bench_tmp/$1 i pids=() deadline=$((SECONDS + 30))
  for i in 0 1 2; do
    bench_start "$dir/node$i.json" "$dir/node$i.log"
    pids+=("$bench_last_pid")
  done
  echo "${pids[*]}" >"$dir/pids"
  until "$kvbench" -e "$2" --mix set=1 -n 1 -k 1 -q --retries 20 --timeout-ms 1000 \
        >/dev/null 2>&1; do
    for i in 0 1 2; do
      if ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "bench: node$i exited: $(tail -n 1 "$dir/node$i.log")" >&2
        return 1
      fi
    done
    if [ $SECONDS -ge $deadline ]; then
      echo "bench: no acknowledged write from $2 within 30 s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# bench_leader ENDPOINTS: the index (0-based) of the node that says it leads, or nothing.
bench_leader() {
  local i=0 ep
  for ep in ${1//,/ }; do
    if "$build/tools/kvctl/kvctl" -e "$ep" status 2>/dev/null | grep -q '^role LEADER'; then
      echo "$i"
      return 0
    fi
    i=$((i + 1))
  done
  return 1
}

# bench_start CONFIG LOG: starts kvnode in the background; its pid is remembered for the EXIT
# trap and left in bench_last_pid. Never call it inside $( ): a subshell's bench_pids is lost,
# and the node would outlive the script.
bench_start() {
  "$kvnode" --config "$1" >>"$2" 2>&1 &
  bench_pids+=($!)
  bench_last_pid=$!
}

# bench_stop PID: SIGTERM, then wait.
bench_stop() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# bench_wait_write ENDPOINTS: until one write is acknowledged (a leader exists), 30 s at most.
bench_wait_write() {
  local deadline=$((SECONDS + 30))
  until "$kvbench" -e "$1" --mix set=1 -n 1 -k 1 -q --retries 20 --timeout-ms 1000 \
        >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "bench: no acknowledged write from $1 within 30 s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# bench_json_field JSON KEY: the first number after "KEY": in a kvbench --json line.
bench_json_field() {
  grep -o "\"$2\": [-0-9.e+]*" <<<"$1" | head -n 1 | sed 's/.*: //'
}

# bench_machine: one line about where the numbers come from.
bench_machine() {
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr), $(df -T "$bench_tmp" | awk 'NR == 2 {print $2}') under $bench_tmp"
}

# bench_row NAME JSON: one summary line from a kvbench --json result.
bench_row() {
  printf '%-40s %10.0f %9s %9s %9s %9s %s\n' "$1" "$(bench_json_field "$2" ops_per_s)" \
    "$(bench_json_field "$2" p50_us)" "$(bench_json_field "$2" p99_us)" \
    "$(bench_json_field "$2" p999_us)" "$(bench_json_field "$2" max_us)" \
    "$(grep -o '"errors": {[^}]*}' <<<"$2" | sed 's/"errors": //' | tr '\n' ' ')"
}

bench_header() {
  printf '%-40s %10s %9s %9s %9s %9s %s\n' run ops/s p50_us p99_us p99.9_us max_us errors
}

# bench_split INFLIGHT: "CONNECTIONS DEPTH" spreading INFLIGHT requests (a square or near it).
bench_split() {
  case $1 in
    1) echo "1 1" ;; 4) echo "2 2" ;; 16) echo "4 4" ;; 64) echo "8 8" ;; 256) echo "16 16" ;;
    *) echo "1 $1" ;;
  esac
}

# bench_cpu_us PID...: the CPU (user + system) the processes have used so far, in microseconds.
bench_cpu_us() {
  local pid ticks=0 hz
  hz=$(getconf CLK_TCK)
  for pid in "$@"; do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo $((ticks * 1000000 / hz))
}
