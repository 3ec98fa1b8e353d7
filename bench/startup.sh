#!/usr/bin/env bash
# How long `pglab db status` takes on a fresh machine (initdb + migrations + seed) and on an
# already-initialised cluster (start + report), against the bare PostgreSQL programs doing
# the least they must (initdb; pg_ctl start -w; stop) measured in the same run.
#
#   bash bench/startup.sh [runs]        (default 5; needs a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
pglab=$PWD/target/release/pglab
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
bindir=${PG_BINDIR:-${bindir:-$(dirname "$(command -v initdb)")}}

work=$(mktemp -d /tmp/pglab-bench-startup.XXXXXX)
chmod 755 "$work" # the server may run as another user (when run as root)
trap 'rm -rf "$work"' EXIT
as_server_user=()
[[ $(id -u) == 0 ]] && as_server_user=(runuser -u postgres --)

source bench/timing.sh
wait_stopped() { while pgrep -f "postgres -D $1" >/dev/null; do sleep 0.05; done; }

bare_init() {
    local dir=$1
    mkdir -p "$dir" && chmod 755 "$dir"
    [[ ${#as_server_user[@]} -gt 0 ]] && chown postgres "$dir"
    "${as_server_user[@]}" "$bindir/initdb" -D "$dir/data" -A trust --no-sync --no-instructions
}
bare_start_stop() {
    local dir=$1
    "${as_server_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p 0 -k $dir -c listen_addresses=''" start
    "${as_server_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop
}

first=() again=() bare_first=() bare_again=()
for i in $(seq "$runs"); do
    dir=$work/lab$i
    first+=("$(PGLAB_DATA_DIR=$dir seconds "$pglab" db status)")
    wait_stopped "$dir/cluster"
    again+=("$(PGLAB_DATA_DIR=$dir seconds "$pglab" db status)")
    wait_stopped "$dir/cluster"
    bare_first+=("$(seconds bare_init "$work/bare$i")")
    bare_again+=("$(seconds bare_start_stop "$work/bare$i")")
done

report() {
    local label=$1 target=$2 ours bare
    ours=$(printf '%s\n' "${@:3:$runs}" | median)
    bare=$(printf '%s\n' "${@:$((3 + runs))}" | median)
    printf '%-34s pglab %5.2f s (target < %s s)   bare PostgreSQL %5.2f s   ratio %.2f\n' \
        "$label" "$ours" "$target" "$bare" "$(awk -v o="$ours" -v b="$bare" 'BEGIN {print o / b}')"
}
echo "medians of $runs runs, PostgreSQL programs in $bindir"
report "first start (initdb, migrate, seed)" 5 "${first[@]}" "${bare_first[@]}"
report "already initialised (start, status)" 1 "${again[@]}" "${bare_again[@]}"
