# Shared by the benchmark scripts (sourced, not run): the release build they measure and
# their scratch directory with its cleanup.

# Builds kdc and kdc-load as the production build does (feature `openssl`, as
# deploy/Containerfile builds it; kdc-load is in the kdc-client package, whose `openssl`
# feature is the kdc's) and sets $kdc and $load.
build_release() {
    cargo build --release --locked -p kdc -p kdc-client --features openssl --bin kdc --bin kdc-load >&2
    local bin=${CARGO_TARGET_DIR:-target}/release
    kdc=$bin/kdc
    load=$bin/kdc-load
}

# Makes $work (a new directory under /tmp named after $1) and, on exit, kills the processes
# listed in $pids and removes $work unless $keep is 1.
make_work() {
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    pids=()
    trap cleanup_work EXIT
}

cleanup_work() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if ((keep)); then log "kept $work"; else rm -rf "$work"; fi
}
