#!/usr/bin/env bash
# Benchmark: one KDC replica against two (deploy/replicas.md) on this machine, with the same
# client (kdc-load, MODP 2048, key trust, the release build with `openssl`). Replica A
# listens on 127.0.0.2, replica B on 127.0.0.3, each with its own copy of one dev realm (the
# same keys and users; the embedded directory stands in for the replicated one, so that the
# run measures the KDCs, not slapd). For each setup it prints the AS exchanges per second at
# saturation (and, for planning, TGS exchanges on one replica), p50/p99 latency, the KDCs' CPU seconds per exchange (utime+stime from
# /proc/PID/stat, summed over the replicas) and the share of the machine's cores they used.
#
# On one machine both replicas and the generator share the same cores: two replicas cannot
# add capacity here; the run shows what a second process and the spreading cost, and that
# the per-exchange CPU cost stays what it is. On separate machines capacity adds up (see
# BENCHMARKS.md, "Planning capacity").
#
# Usage: bench/replicas.sh [--users N] [--count N] [--concurrency C] [--keep]
# Run time: about a minute after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

users=32
count=6000
concurrency=16
keep=0
usage="usage: $0 [--users N] [--count N] [--concurrency C] [--keep]"
while (($#)); do
    case "$1" in
        --users) users=$2; shift 2 ;;
        --count) count=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "$usage" >&2; exit 2 ;;
    esac
done
log() { echo "replicas: $*" >&2; }

# shellcheck source=bench/lib.sh
source bench/lib.sh
log "building kdc and kdc-load (release, openssl)"
build_release
make_work kdc-replicas

port_free() { ! (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
port=0
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if port_free 127.0.0.2 "$p" && port_free 127.0.0.3 "$p"; then port=$p; break; fi
done
((port)) || { log "no free port"; exit 1; }
clk_tck=$(getconf CLK_TCK)

a=$work/a
"$kdc" dev-realm "$a" --port "$port" >/dev/null
"$load" prepare --realm-dir "$a" --users "$users" >/dev/null
"$kdc" service add --config "$a/kdc.toml" host/web.example >/dev/null
b=$work/b
cp -a "$a" "$b"
for replica in a b; do
    dir=$work/$replica
    host=127.0.0.$([[ $replica == a ]] && echo 2 || echo 3)
    sed -i -e "s|^udp = .*|udp = [\"$host:$port\"]|" -e "s|^tcp = .*|tcp = [\"$host:$port\"]|" \
        -e 's|^listen = "127.0.0.1:[0-9]*"|listen = "127.0.0.1:0"|' "$dir/kdc.toml"
done

start() { # dir host
    "$kdc" serve --config "$1/kdc.toml" >"$1/kdc.stdout" 2>"$1/kdc.stderr" &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 200); do
        if ! port_free "$2" "$port"; then echo "$pid"; return; fi
        sleep 0.05
    done
    log "replica at $2 did not start"; cat "$1/kdc.stderr" >&2; exit 1
}
a_pid=$(start "$a" 127.0.0.2)
b_pid=$(start "$b" 127.0.0.3)

cpu_ticks() { # pid...
    local total=0 pid
    for pid in "$@"; do
        read -r -a stat <"/proc/$pid/stat"
        total=$((total + stat[13] + stat[14]))
    done
    echo "$total"
}

json_field() { # file phase-field
    python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['phases'][0]; print(p$2)" "$1"
}

printf '%-14s %10s %10s %10s %12s %10s\n' setup "exch/s" "p50 ms" "p99 ms" "CPU ms/exch" "cores"
measure() { # label pids kdc-load-args...
    local label=$1 pids_csv=$2
    shift 2
    IFS=, read -r -a watched <<<"$pids_csv"
    # A short warm-up (connection setup, caches), not measured.
    "$load" run --realm-dir "$a" "$@" --count 200 --concurrency "$concurrency" --quiet >/dev/null
    local before after wall_start wall_end
    before=$(cpu_ticks "${watched[@]}")
    wall_start=$(date +%s.%N)
    "$load" run --realm-dir "$a" "$@" --count "$count" --concurrency "$concurrency" --quiet \
        --verify-sample 0.02 \
        --json "$work/$label.json" >"$work/$label.txt"
    wall_end=$(date +%s.%N)
    after=$(cpu_ticks "${watched[@]}")
    local ok completed
    ok=$(json_field "$work/$label.json" "['ok']")
    # A TGS phase measures only TGS exchanges; its set-up logons are not in the figures.
    completed=$(json_field "$work/$label.json" "['completed']")
    if [[ $ok != "$completed" ]]; then log "$label: $ok of $completed ok"; cat "$work/$label.txt" >&2; exit 1; fi
    python3 - "$label" "$work/$label.json" "$before" "$after" "$wall_start" "$wall_end" "$clk_tck" "$(nproc)" <<'PY'
import json, sys
label, path, before, after, t0, t1, tck, cores = sys.argv[1:]
p = json.load(open(path))["phases"][0]
cpu = (int(after) - int(before)) / int(tck)
wall = float(t1) - float(t0)
print(f"{label:<14} {p['throughput_per_sec']:>10.0f} {p['latency_ms']['p50']:>10.2f} "
      f"{p['latency_ms']['p99']:>10.2f} {1000 * cpu / p['completed']:>12.3f} "
      f"{cpu / wall:>5.2f} of {cores}")
PY
}
measure one-replica "$a_pid" --kdc "127.0.0.2:$port"
measure two-replicas "$a_pid,$b_pid" --kdc "127.0.0.2:$port" --kdc "127.0.0.3:$port"
# For planning: a TGS exchange with its PAC checked and signed again, on one replica.
measure tgs-one-replica "$a_pid" --kdc "127.0.0.2:$port" --exchange tgs --tgs-service host/web.example
