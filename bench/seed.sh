#!/usr/bin/env bash
# `pglab seed --users 1000000` against `pgbench -i -s 10` (also 1,000,000 rows), on the same
# private server, alternating runs; prints each pair, the medians and their ratio.
#
#   bash bench/seed.sh [runs]        (default 5; needs a release build and pgbench)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
pglab=$PWD/target/release/pglab
pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -1)

export PGLAB_DATA_DIR=$(mktemp -d /tmp/pglab-bench-seed.XXXXXX)
chmod 755 "$PGLAB_DATA_DIR" # the server may run as another user (when run as root)
"$pglab" db serve >"$PGLAB_DATA_DIR/serve.out" &
serve=$!
cleanup() {
    kill "$serve" 2>/dev/null || true
    wait "$serve" 2>/dev/null || true
    # The server shuts down after the last pglab; remove its files once it has.
    while pgrep -f "postgres -D $PGLAB_DATA_DIR/cluster" >/dev/null; do sleep 0.1; done
    rm -rf "$PGLAB_DATA_DIR"
}
trap cleanup EXIT
until grep -q "is up" "$PGLAB_DATA_DIR/serve.out"; do
    kill -0 "$serve" 2>/dev/null || { echo "pglab db serve failed" >&2; exit 1; }
    sleep 0.2
done
url=$("$pglab" db url --owner)
psql -q "$url" -c "create database pgbench_baseline"
baseline_url=${url%/pglab}/pgbench_baseline

source bench/timing.sh

baseline=() seeded=()
for i in $(seq "$runs"); do
    "$pglab" db reset >/dev/null
    b=$(seconds "$pgbench" -i -s 10 -q "$baseline_url")
    s=$(seconds "$pglab" seed --users 1000000)
    printf 'run %d: pgbench -i -s 10 %6.2f s   pglab seed --users 1000000 %6.2f s\n' "$i" "$b" "$s"
    baseline+=("$b") seeded+=("$s")
done
b=$(printf '%s\n' "${baseline[@]}" | median)
s=$(printf '%s\n' "${seeded[@]}" | median)
printf 'median: pgbench %.2f s, pglab seed %.2f s, ratio %.2f (target <= 1.5)\n' "$b" "$s" "$(awk -v s="$s" -v b="$b" 'BEGIN {print s / b}')"
