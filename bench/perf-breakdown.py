#!/usr/bin/env python3
"""Where a KDC's CPU went: reads `perf script -F comm,tid,ip,sym,dso` output (samples with call
graphs) on stdin and prints the share of samples per category: crypto, parsing/encoding,
directory, logging, the KDC's own request logic, runtime, kernel, allocator and the rest.

A sample belongs to the innermost frame that names a category (a malloc called by the DER
encoder counts as encoding); a sample whose innermost frame is in the kernel is split into the
scheduler (task switches, wake-ups, futexes, epoll waits) and the rest of the kernel (socket
I/O, system call entry). Used by bench/profile.sh.
"""

import re
import sys
from collections import Counter

ALLOCATOR = "allocator and copies"
# Checked in this order for each frame, innermost first; the first match owns the sample.
CATEGORIES = [
    ("crypto", re.compile(
        r"aws_lc|libcrypto|crypto_bigint|\brsa::|sha1|sha2::|Sha256|Sha1|\baes\b|aes::|hmac|"
        r"pbkdf|kdc::crypto::|agreement::|signer::|openssl")),
    ("parsing/encoding", re.compile(
        r"\brasn\b|rasn::|rasn_|asn1_rs|x509_parser|der_parser|\bder::|kdc::proto::|pac::ndr")),
    ("directory", re.compile(r"kdc_directory|ldap3")),
    ("logging and metrics", re.compile(
        r"tracing|kdc::audit|prometheus|kdc::metrics|core::fmt")),
    ("KDC request logic", re.compile(r"\bkdc::|\bkdc_")),
    ("runtime (tokio)", re.compile(r"tokio::|mio::|parking_lot|std::sync|futex")),
    (ALLOCATOR, re.compile(
        r"malloc|_int_free|cfree|realloc|memalign|unlink_chunk|__memmove|__memcpy|__memset|"
        r"alloc::")),
]
SCHEDULER = re.compile(
    r"schedule|finish_task_switch|try_to_wake_up|futex|ep_poll|epoll|wake_up|"
    r"_raw_spin_unlock_irq|pick_next|enqueue_task|dequeue_task|update_curr|hrtimer|idle")


def samples(lines):
    """Yields each sample's frames (symbol and library), innermost first."""
    frames = []
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = []
            continue
        if not line[0].isspace():
            frames = []  # the header line of a sample: command and thread
            continue
        parts = line.strip().split(None, 1)
        frames.append(parts[1] if len(parts) > 1 else "")
    if frames:
        yield frames


def category(frames):
    if frames and "[kernel.kallsyms]" in frames[0]:
        return "kernel: scheduler and wake-ups" if SCHEDULER.search(frames[0]) or any(
            SCHEDULER.search(f) for f in frames[:4]) else "kernel: sockets and system calls"
    # The allocator last: a malloc belongs to whoever called it.
    for wanted in (lambda name: name != ALLOCATOR, lambda name: name == ALLOCATOR):
        for frame in frames:
            for name, pattern in CATEGORIES:
                if wanted(name) and pattern.search(frame):
                    return name
    return "other"


def main():
    counts = Counter(category(frames) for frames in samples(sys.stdin))
    total = sum(counts.values())
    if not total:
        sys.exit("perf-breakdown: no samples on stdin")
    for name, count in counts.most_common():
        print(f"{name:36} {100 * count / total:5.1f} %")
    print(f"{'samples':36} {total:5d}")


if __name__ == "__main__":
    main()
