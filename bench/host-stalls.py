#!/usr/bin/env python3
"""How often this machine takes a CPU away from a running process, and for how long.

One busy loop per CPU reads the clock as fast as it can; a gap between two reads longer
than 0.5 ms is time the loop did not run (the hypervisor ran another guest, or the kernel
did work of its own). Run it on an idle machine: what it finds bounds the tail latency any
server there can have, whatever its code does (issue 19: a KDC's p99 at 80 % of saturation
moved 3-7x between runs on a 2-vCPU VM that lost its CPUs for up to 12 ms at a time).

Usage: bench/host-stalls.py [SECONDS]   (default 10). Prints one line per CPU and a summary
line `stalls: ...` that bench/compare-mit.sh quotes.
"""
import multiprocessing
import os
import sys
import time

GAP = 0.0005  # shorter gaps are the loop's own jitter


def watch(args):
    cpu, seconds = args
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass
    start = last = time.perf_counter()
    gaps = []
    while last - start < seconds:
        now = time.perf_counter()
        if now - last > GAP:
            gaps.append(now - last)
        last = now
    return cpu, gaps


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    with multiprocessing.Pool(len(cpus)) as pool:
        results = pool.map(watch, [(cpu, seconds) for cpu in cpus])
    over_5ms = longest = lost = 0.0
    for cpu, gaps in results:
        big = [g for g in gaps if g > 0.005]
        print(f"cpu {cpu}: {len(gaps)} gaps over 0.5 ms, {len(big)} over 5 ms, "
              f"longest {max(gaps, default=0) * 1000:.1f} ms, {sum(gaps) / seconds * 100:.2f} % of the time lost")
        over_5ms += len(big)
        longest = max(longest, max(gaps, default=0))
        lost += sum(gaps)
    n = len(results)
    print(f"stalls: {over_5ms / seconds / n:.2f} per s per CPU over 5 ms, longest {longest * 1000:.1f} ms, "
          f"{lost / seconds / n * 100:.2f} % of CPU time lost")


if __name__ == "__main__":
    main()
