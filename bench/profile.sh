#!/usr/bin/env bash
# Where a running KDC's CPU goes while a command loads it: perf samples the KDC process (all
# its threads) at 4 kHz with DWARF call graphs (the release profile keeps line tables), and
# bench/perf-breakdown.py sorts the samples into crypto, parsing/encoding, directory, logging
# and metrics, the KDC's own logic, the runtime, the allocator and the kernel.
#
# Usage: bench/profile.sh KDC_PID [--keep FILE] -- COMMAND [ARGS...]
#   e.g. bench/profile.sh "$(pgrep -f 'kdc serve')" -- kdc-load run --realm-dir DIR --count 4000
#        bench/profile.sh "$pid" -- sh -c 'for i in $(seq 200); do kinit ...; done'
# Needs perf (Debian: linux-perf) and root, or kernel.perf_event_paranoid <= 1.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: $0 KDC_PID [--keep FILE] -- COMMAND [ARGS...]"
if (($# < 3)); then echo "$usage" >&2; exit 2; fi
pid=$1
shift
keep=
if [[ $1 == --keep ]]; then keep=$2; shift 2; fi
if [[ $1 != -- ]]; then echo "$usage" >&2; exit 2; fi
shift
command -v perf >/dev/null || { echo "profile: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
kill -0 "$pid" 2>/dev/null || { echo "profile: no process $pid" >&2; exit 1; }

data=$(mktemp /tmp/kdc-profile.XXXXXX)
trap 'rm -f "$data"' EXIT
perf record -q -F 4000 --call-graph dwarf,16384 -p "$pid" -o "$data" >/dev/null 2>&1 &
perf_pid=$!
sleep 0.5 # perf attaches
"$@"
kill -INT "$perf_pid"
wait "$perf_pid" || true
perf script -i "$data" -F comm,tid,ip,sym,dso 2>/dev/null | python3 bench/perf-breakdown.py
if [[ -n $keep ]]; then cp "$data" "$keep"; echo "perf data kept in $keep" >&2; fi
