#!/usr/bin/env bash
# The WebSocket benchmark: the framework's broadcast hub (examples/hub)
# against the same hub on gorilla/websocket (goroutine per connection) and
# on nbio (epoll), each pinned to core 0 with GOMAXPROCS=1 and the load
# tool (cmd/chatload, on the framework's own client) on core 1, in one run
# so the ratios are honest; then each one's /echo in messages per second.
# Usage: bench/ws/run.sh [rounds]   (writes bench/results/ws.md, or $RESULTS;
# CPU_ROUNDS sets the rounds of the CPU measurement, 100 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-20}
cpu_rounds=${CPU_ROUNDS:-100}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/loop" ./examples/hub
go build -o "$bin/gorilla" ./bench/peers/gorillahub
go build -o "$bin/nbio" ./bench/peers/nbiohub
go build -o "$bin/chatload" ./cmd/chatload
go build -o "$bin/writefloor" ./bench/writefloor
load() { GOMAXPROCS=1 taskset -c 1 "$bin/chatload" "$@"; }
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

start_server() { # name -> sets addr and pid
  GOMAXPROCS=1 taskset -c 0 "$bin/$1" -addr 127.0.0.1:0 > "$bin/$1.out" 2>"$bin/$1.err" &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$bin/$1.out" && break; sleep 0.1; done
  addr=$(awk '/listening/ {print $2}' "$bin/$1.out")
}

# The floor: a bare loop of write(2) calls, on the servers' core.
floor=$(GOMAXPROCS=1 taskset -c 0 "$bin/writefloor" -conns 5000 -rounds 40)

rows=()
for server in loop gorilla nbio; do
  start_server "$server"
  idle=$(load -url "ws://$addr/ws" -stats "http://$addr/stats" -pid "$pid" -mode idle -conns 10000)
  f1k=$(load -url "ws://$addr/ws" -pid "$pid" -mode fanout -conns 1000 -rounds "$rounds")
  f10k=$(load -url "ws://$addr/ws" -pid "$pid" -mode fanout -conns 10000 -rounds "$rounds")
  # CPU per delivery over more rounds: the kernel splits a process's time
  # into user and system by sampling at each clock tick, so 20 rounds give
  # a user figure only to about ±15%.
  cpu=$(load -url "ws://$addr/ws" -pid "$pid" -mode fanout -conns 10000 -rounds "$cpu_rounds")
  e1=$(load -url "ws://$addr/echo" -pid "$pid" -mode echo -conns 1 -duration 5)
  e1k=$(load -url "ws://$addr/echo" -pid "$pid" -mode echo -conns 1000 -duration 5)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rows+=("| $server | $(field rss_per_conn "$idle") | $(field p50_ms "$f1k") / $(field p99_ms "$f1k") | $(field p50_ms "$f10k") / $(field p99_ms "$f10k") | $(field user_us_per_delivery "$cpu") + $(field sys_us_per_delivery "$cpu") | $(field write_syscalls_per_delivery "$cpu") | $(field msgs_per_sec "$e1") / $(field msgs_per_sec "$e1k") | $(field server_us_per_msg "$e1k") |")
done

{
  echo "# WebSocket benchmark ($(date -u +%Y-%m-%d), $(nproc) cores; each server on core 0 with GOMAXPROCS=1, cmd/chatload on core 1; $rounds fan-out rounds, 64-byte messages, no compression)"
  echo
  echo "| server | idle RSS per connection (bytes, 10,000 conns) | fan-out to 1,000: last receiver p50 / p99 ms | fan-out to 10,000: p50 / p99 ms | server CPU per delivery at 10,000 ($cpu_rounds rounds), user + system µs | write system calls per delivery | echo messages/s, 1 / 1,000 connections | server CPU per echoed message at 1,000, µs |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Floor (bench/writefloor, a bare loop of write(2) calls to 5,000 loopback sockets, same core): $(field user_us_per_write "$floor") + $(field sys_us_per_write "$floor") µs user + system per write."
} | tee "${RESULTS:-bench/results/ws.md}"
