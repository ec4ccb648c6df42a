#!/usr/bin/env bash
# The HTTP benchmark: GET /hello and the templ page GET /page with wrk
# -t1 -c64 (keep-alive), the
# framework's server against net/http, each pinned to core 0 with
# GOMAXPROCS=1 and wrk on core 1, in one run so the ratio is honest.
# Usage: bench/http/run.sh [duration]   (writes bench/results/http.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10s}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/server" ./bench/http/server
rows=()
for impl in loop nethttp; do
  GOMAXPROCS=1 taskset -c 0 "$bin/server" -impl "$impl" > "$bin/$impl.out" &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$bin/$impl.out" && break; sleep 0.1; done
  addr=$(awk '/listening/ {print $2}' "$bin/$impl.out")
  for path in /hello /page; do
    taskset -c 1 wrk -t1 -c64 -d2s "http://$addr$path" >/dev/null # warm up
    out=$(taskset -c 1 wrk -t1 -c64 -d"$duration" --latency "http://$addr$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    rows+=("| GET $path | $impl | $rps | $p50 | $p99 |")
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
{
  echo "# HTTP benchmark ($(date -u +%Y-%m-%d), wrk -t1 -c64 -d$duration on core 1, server on core 0 with GOMAXPROCS=1)"
  echo
  echo "| route | server | requests/s | p50 latency | p99 latency |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee bench/results/http.md
