#!/usr/bin/env bash
# The echo benchmark: the framework's loop against the goroutine-per-
# connection echo, each server pinned to core 0 with GOMAXPROCS=1 and the
# load tool on core 1, in one run so the ratios are honest.
# Usage: bench/echo/run.sh [duration]   (writes bench/results/echo.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-5s}
bin=$(mktemp -d)
go build -o "$bin/server" ./bench/echo/server
go build -o "$bin/load" ./bench/echo/load
out=bench/results/echo.md
mkdir -p bench/results
results=()
for impl in loop goroutine; do
  GOMAXPROCS=1 taskset -c 0 "$bin/server" -impl "$impl" > "$bin/$impl.out" &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$bin/$impl.out" && break; sleep 0.1; done
  addr=$(awk '/listening/ {print $2}' "$bin/$impl.out")
  rt1=$(GOMAXPROCS=1 taskset -c 1 "$bin/load" -addr "$addr" -mode rtt -conns 1 -duration "$duration")
  rt1000=$(GOMAXPROCS=1 taskset -c 1 "$bin/load" -addr "$addr" -mode rtt -conns 1000 -duration "$duration")
  mem=$(GOMAXPROCS=1 taskset -c 1 "$bin/load" -addr "$addr" -pid "$pid" -mode idle -conns 10000)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
  results+=("| $impl | $(field round_trips_per_sec "$rt1") | $(field round_trips_per_sec "$rt1000") | $(field heap_before "$mem") → $(field heap_after "$mem") | $(field rss_before "$mem") → $(field rss_after "$mem") | $(field heap_per_conn "$mem") | $(field rss_per_conn "$mem") |")
done
{
  echo "# Echo benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, server pinned to one core, GOMAXPROCS=1)"
  echo
  echo "| server | round trips/s, 1 conn | round trips/s, 1,000 conns | heap bytes, 0 → 10,000 idle conns | RSS bytes, 0 → 10,000 idle conns | heap bytes per idle conn | RSS bytes per idle conn |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${results[@]}"
} | tee "$out"
rm -rf "$bin"
