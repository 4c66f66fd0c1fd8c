# bench/rolling.sh: bench/failover --rolling: restart each node of the cluster in turn under
# the load, and the longest time without an acknowledged write per restart. Sourced by
# bench/failover after the load started ($start_ns, $pids, $bench_tmp/cluster/node*.json).

now_ms() { echo $((($(date +%s%N) - start_ns) / 1000000)); }

# rolling_restarts LEADER ENDPOINTS: followers first, the leader last; for each node prints
# "NODE SIGTERM_MS EXITED_MS STARTED_MS CAUGHT_UP_MS" (ms since the load began).
rolling_restarts() {
  local leader=$1 eps=(${2//,/ }) i t_term t_exit t_start deadline
  for i in $(( (leader + 1) % 3 )) $(( (leader + 2) % 3 )) "$leader"; do
    t_term=$(now_ms)
    kill -TERM "${pids[$i]}"
    wait "${pids[$i]}" 2>/dev/null || true
    t_exit=$(now_ms)
    bench_start "$bench_tmp/cluster/node$i.json" "$bench_tmp/cluster/node$i.log"
    pids[$i]=$bench_last_pid
    t_start=$(now_ms)
    deadline=$((SECONDS + 30))
    until "$build/tools/kvctl/kvctl" -e "${eps[$i]}" health >/dev/null 2>&1; do
      if [ $SECONDS -ge $deadline ]; then
        echo "failover: node$i not caught up within 30 s of its restart" >&2
        return 1
      fi
      sleep 0.05
    done
    echo "$i $t_term $t_exit $t_start $(now_ms)"
    sleep 1
  done
}

# rolling_report TIMELINE RESTARTS PLOT: per restart, the longest run of 10 ms buckets without
# an acknowledged write from its SIGTERM to 500 ms after it caught up; the plot marks each.
rolling_report() {
  local arrows=
  echo "node  sigterm->exit  down  start->caught-up  longest no-ack window (ms)"
  while read -r node term exited started caught; do
    awk -F, -v from="$term" -v to=$((caught + 500)) -v node="$node" -v term="$term" \
        -v exited="$exited" -v started="$started" -v caught="$caught" '
      NR > 1 && $1 >= from && $1 <= to {
        if ($2 == 0) { run++ } else { if (run > best) best = run; run = 0 }
      }
      END {
        if (run > best) best = run
        printf "node%s %8d ms %5d ms %10d ms %18d\n", node, exited - term, started - exited,
               caught - started, best * 10
      }' "$1"
  done <"$2" | tee "$bench_tmp/rolling.txt"
  awk '{ if ($NF > m) m = $NF } END { printf "rolling restart: longest no-ack window %d ms\n", m }' \
    "$bench_tmp/rolling.txt"
  out=$(cat "$bench_tmp/load.json")
  bench_header
  bench_row "rolling restart, 16 in flight" "$out"
  command -v gnuplot >/dev/null || return 0
  while read -r node term exited started caught; do
    arrows+="set arrow from $term/1000.0, graph 0 to $term/1000.0, graph 1 nohead lc rgb 'red'"$'\n'
    arrows+="set arrow from $caught/1000.0, graph 0 to $caught/1000.0, graph 1 nohead lc rgb 'dark-green' dt 2"$'\n'
  done <"$2"
  gnuplot <<GP
set terminal pngcairo size 1000,450 noenhanced
set output '$3'
set datafile separator ','
set xlabel 'time (s)'
set ylabel 'acknowledged writes/s (per 10 ms bucket)'
set title 'rolling restart: SIGTERM (red), caught up (green, dashed)'
set grid
$arrows
plot '$1' every ::1 using (\$1/1000.0):(\$2*100) with steps title 'writes/s'
GP
  echo "plot: $3"
}
