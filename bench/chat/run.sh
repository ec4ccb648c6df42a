#!/usr/bin/env bash
# The chat benchmark: the durable chat (cmd/chat) against the bare
# broadcast hub (examples/hub) on the same load tool (cmd/chatload), in
# one run so the comparison is honest. Each server is pinned to core 0
# with GOMAXPROCS=1, the tool to core 1; each chat server starts on a
# fresh data directory, with its access log off (the bare hub has none). Figures: fan-out to 10,000 members (bare hub
# -mode fanout, chat -mode roomfanout), idle members' memory (-mode
# members), fan-out to 10,000 parked long polls (-mode longpoll), and
# 100 rooms × 100 members each posting once a second (-mode rooms, with
# the exactly-once check), each beside its target.
# Usage: bench/chat/run.sh   (writes bench/results/chat.md, or $RESULTS)
# Environment: ROUNDS (20), CONNS (10000), ROOMS (100), MEMBERS (100),
# DURATION (60 seconds of posting in the rooms run), DRAIN (at most 120 s
# after it for the backlog to arrive; the exactly-once check counts what
# has not arrived by then as missing).
# The open-file limit (20,000 a process, fixed here) makes 10,000
# connections a process the size.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-20}
conns=${CONNS:-10000}
rooms=${ROOMS:-100}
members=${MEMBERS:-100}
duration=${DURATION:-60}
drain=${DRAIN:-120}
# The specified many-rooms load is 1,000,000 deliveries a second, several
# times what one core writes (about 5 µs of system time per delivery); the
# second rooms run keeps the same rooms (100 members, each posting once a
# second) but fewer of them, at a load one core carries.
fit_rooms=${FIT_ROOMS:-10}
work=$(mktemp -d)
started=() # the server PIDs this script started, and only those are killed
cleanup() {
  for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/chat" ./cmd/chat
go build -o "$work/hub" ./examples/hub
go build -o "$work/chatload" ./cmd/chatload
load() { GOMAXPROCS=1 taskset -c 1 "$work/chatload" "$@"; }
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
# verdict A B: "met" when A <= B.
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? "met" : "**missed**" }'; }
calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }

start_hub() { # -> addr, pid
  GOMAXPROCS=1 taskset -c 0 "$work/hub" -addr 127.0.0.1:0 >"$work/hub.out" 2>"$work/hub.err" &
  pid=$!
  started+=("$pid")
  for _ in $(seq 100); do grep -q listening "$work/hub.out" && break; sleep 0.1; done
  addr=$(awk '/listening/ {print $2}' "$work/hub.out")
}

starts=0
start_chat() { # -> url, debug, pid; a fresh data directory each time
  starts=$((starts + 1))
  local data log=$work/chat$starts.err
  data=$(mktemp -d -p "$work")
  GOMAXPROCS=1 taskset -c 0 "$work/chat" -addr 127.0.0.1:0 -data "$data" -debug-addr 127.0.0.1:0 -access-log=false -new-users-per-minute 0 >"$work/chat$starts.out" 2>"$log" &
  pid=$!
  started+=("$pid")
  for _ in $(seq 100); do grep -q 'msg="chat: debug listening"' "$log" && grep -q 'msg="chat: listening"' "$log" && break; sleep 0.1; done
  url=$(sed -n 's/.*msg="chat: listening" url=\([^ ]*\).*/\1/p' "$log")
  url=${url%/}
  debug=$(sed -n 's/.*msg="chat: debug listening" url=\([^ ]*\).*/\1/p' "$log")
  [ -n "$url" ] && [ -n "$debug" ] || { echo "chat did not start:" >&2; cat "$log" >&2; exit 1; }
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

start_hub
hub=$(load -url "ws://$addr/ws" -pid "$pid" -mode fanout -conns "$conns" -rounds "$rounds")
stop
echo "$hub" >&2

start_chat
fan=$(load -url "$url" -debug "$debug" -pid "$pid" -mode roomfanout -conns "$conns" -rounds "$rounds" -runid f)
stop
echo "$fan" >&2

start_chat
mem=$(load -url "$url" -debug "$debug" -pid "$pid" -mode members -conns "$conns" -runid m)
stop
echo "$mem" >&2

start_chat
lp=$(load -url "$url" -debug "$debug" -pid "$pid" -mode longpoll -conns "$conns" -rounds "$rounds" -runid p)
stop
echo "$lp" >&2

start_chat
many=$(load -url "$url" -debug "$debug" -pid "$pid" -mode rooms -rooms "$rooms" -members "$members" -duration "$duration" -drain "$drain" -runid r)
stop
echo "$many" >&2

start_chat
fit=$(load -url "$url" -debug "$debug" -pid "$pid" -mode rooms -rooms "$fit_rooms" -members "$members" -duration "$duration" -drain "$drain" -runid s)
stop
echo "$fit" >&2

hub99=$(field p99_ms "$hub")
fan99=$(field p99_ms "$fan")
lp99=$(field p99_ms "$lp")
{
  echo "# Chat benchmark ($(date -u +%Y-%m-%d), $(nproc) cores; each server on core 0 with GOMAXPROCS=1, cmd/chatload on core 1; a fresh data directory per chat server; $rounds fan-out rounds)"
  echo
  echo "## Durable fan-out to $conns members"
  echo
  echo "| server | last receiver p50 / p99 ms | server CPU per delivery, user + system µs | write system calls per delivery | target |"
  echo "|---|---|---|---|---|"
  echo "| bare hub (examples/hub, -mode fanout) | $(field p50_ms "$hub") / $hub99 | $(field user_us_per_delivery "$hub") + $(field sys_us_per_delivery "$hub") | $(field write_syscalls_per_delivery "$hub") | |"
  echo "| chat (cmd/chat, -mode roomfanout, committed before delivery) | $(field p50_ms "$fan") / $fan99 | $(field user_us_per_delivery "$fan") + $(field sys_us_per_delivery "$fan") | $(field write_syscalls_per_delivery "$fan") | p99 ≤ hub p99 + 20 ms = $(calc "$hub99 + 20"): $(verdict "$fan99" "$(calc "$hub99 + 20")") |"
  echo
  echo "## Many rooms: $rooms rooms × $members members, each posting once a second for $(field duration_s "$many") s"
  echo
  echo "| figure | value | target |"
  echo "|---|---|---|"
  echo "| exactly once (every acked message to every member of its room once, in id order) | $(field exactly_once "$many") | yes: $( [ "$(field exactly_once "$many")" = yes ] && echo met || echo '**missed**') |"
  echo "| delivered / expected | $(field delivered "$many") / $(field expected "$many") | equal |"
  echo "| duplicates / missing / out of order / unacked deliveries | $(field duplicates "$many") / $(field missing "$many") / $(field out_of_order "$many") / $(field unexpected "$many") | 0 / 0 / 0 / 0 |"
  echo "| posts sent / acked / refused / unanswered / skipped (member disconnected) | $(field sent "$many") / $(field acked "$many") / $(field refused "$many") / $(field unanswered "$many") / $(field skipped "$many") | |"
  echo "| errors by code | $(field errors "$many") | none (1 a second passes the 5 / 1 s bucket) |"
  echo "| delivery latency p50 / p99 ms (send → member has it, per delivery) | $(field delivery_p50_ms "$many") / $(field delivery_p99_ms "$many") | p99 ≤ 50: $(verdict "$(field delivery_p99_ms "$many")" 50) |"
  echo "| ack latency p50 / p99 ms | $(field ack_p50_ms "$many") / $(field ack_p99_ms "$many") | |"
  echo "| loop lag p99 ms, max of the 1 s samples / final | $(field lag_p99_max_ms "$many") / $(field lag_p99_final_ms "$many") | ≤ 5: $(verdict "$(field lag_p99_max_ms "$many")" 5) |"
  echo "| loop lag max ms / busy fraction max / writer queue max | $(field lag_max_ms "$many") / $(field busy_max "$many") / $(field store_queue_max "$many") | |"
  echo "| commits per second / mean batch (writes per commit) | $(field commits_per_sec "$many") / $(field mean_batch "$many") | |"
  echo "| server CPU per delivery µs / write system calls per delivery | $(field server_us_per_delivery "$many") / $(field write_syscalls_per_delivery "$many") | |"
  echo "| closes by code / reconnects / resets | $(field closes "$many") / $(field reconnects "$many") / $(field resets "$many") | |"
  echo "| sending s / whole run s (sending + drain, drained: $(field drained "$many")) | $(field sending_s "$many") / $(field run_s "$many") | |"
  echo "| load tool: CPU (cores), latest post ms late, own loop lag p99 / max ms | $(field tool_cpu "$many"), $(field send_lag_max_ms "$many"), $(field tool_lag_p99_ms "$many") / $(field tool_lag_max_ms "$many") | small, or the tool is the bottleneck |"
  echo
  echo "## Many rooms at a load one core carries: $fit_rooms rooms × $members members, each posting once a second for $(field duration_s "$fit") s"
  echo
  echo "| figure | value | target |"
  echo "|---|---|---|"
  echo "| exactly once | $(field exactly_once "$fit") | yes: $( [ "$(field exactly_once "$fit")" = yes ] && echo met || echo '**missed**') |"
  echo "| delivered / expected; duplicates / missing / out of order | $(field delivered "$fit") / $(field expected "$fit"); $(field duplicates "$fit") / $(field missing "$fit") / $(field out_of_order "$fit") | equal; 0 / 0 / 0 |"
  echo "| posts acked / refused; errors by code | $(field acked "$fit") / $(field refused "$fit"); $(field errors "$fit") | |"
  echo "| delivery latency p50 / p99 ms | $(field delivery_p50_ms "$fit") / $(field delivery_p99_ms "$fit") | p99 ≤ 50: $(verdict "$(field delivery_p99_ms "$fit")" 50) |"
  echo "| ack latency p50 / p99 ms | $(field ack_p50_ms "$fit") / $(field ack_p99_ms "$fit") | |"
  echo "| loop lag p99 ms, max of the 1 s samples / final; busy fraction max | $(field lag_p99_max_ms "$fit") / $(field lag_p99_final_ms "$fit"); $(field busy_max "$fit") | ≤ 5: $(verdict "$(field lag_p99_max_ms "$fit")" 5) |"
  echo "| commits per second / mean batch (writes per commit) | $(field commits_per_sec "$fit") / $(field mean_batch "$fit") | |"
  echo "| server CPU per delivery µs / write system calls per delivery | $(field server_us_per_delivery "$fit") / $(field write_syscalls_per_delivery "$fit") | |"
  echo
  echo "## Idle members' memory ($conns members in one room, presence on)"
  echo
  echo "| figure | value | target |"
  echo "|---|---|---|"
  echo "| RSS per member (bytes) | $(field rss_per_member "$mem") | ≤ 2048: $(verdict "$(field rss_per_member "$mem")" 2048) |"
  echo "| heap in use per member (bytes) | $(field heap_per_member "$mem") | |"
  echo "| members counted by /stats | $(field server_members "$mem") | $conns |"
  echo
  echo "## Long-poll fan-out to $conns parked polls"
  echo
  echo "| door | last receiver p50 / p99 ms | server CPU per delivery, user + system µs | target |"
  echo "|---|---|---|---|"
  echo "| WebSocket (roomfanout above) | $(field p50_ms "$fan") / $fan99 | $(field user_us_per_delivery "$fan") + $(field sys_us_per_delivery "$fan") | |"
  echo "| long poll (raw HTTP/1.1 pollers on the tool's loop) | $(field p50_ms "$lp") / $lp99 | $(field user_us_per_delivery "$lp") + $(field sys_us_per_delivery "$lp") | p99 ≤ WebSocket p99 × 1.2 = $(calc "$fan99 * 1.2"): $(verdict "$lp99" "$(calc "$fan99 * 1.2")") |"
  echo
  echo "## The tool's lines"
  echo
  echo '```'
  printf '%s\n' "$hub" "$fan" "$mem" "$lp" "$many" "$fit"
  echo '```'
} | tee "${RESULTS:-bench/results/chat.md}"
