#!/usr/bin/env bash
# `pgbench -S` (select-only, one statement per transaction) for a fixed time, against the
# same server directly, through `pglab proxy` (recording on), and through PgBouncer in
# session mode, at 1 and 4 clients, in alternating rounds. Prints the median transactions per
# second, pglab's ratio to PgBouncer and each proxy's CPU time per transaction; checks that
# the proxy recorded one statement per pgbench transaction; and reports the median time a
# round trip takes at 1 client (direct vs through pglab).
#
#   bash bench/proxy.sh [seconds per run] [rounds]   (default 10 s, 3 rounds; needs pgbench
#                                                     and pgbouncer, installed when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/timing.sh
secs=${1:-10}
rounds=${2:-3}
cargo build --release --quiet
pglab=$PWD/target/release/pglab
pgbench=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -1)
if ! command -v pgbouncer >/dev/null; then
    [[ $(id -u) == 0 ]] || { echo "install pgbouncer first (apt-get install pgbouncer)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi

work=$(mktemp -d /tmp/pglab-bench-proxy.XXXXXX)
chmod 755 "$work" # the server (and pgbouncer) may run as another user (when run as root)
export PGLAB_DATA_DIR=$work/lab
mkdir -p "$PGLAB_DATA_DIR" && chmod 755 "$PGLAB_DATA_DIR"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    while pgrep -f "postgres -D $PGLAB_DATA_DIR/cluster" >/dev/null; do sleep 0.1; done
    rm -rf "$work"
}
trap cleanup EXIT
wait_for() { # wait_for FILE TEXT: until FILE contains TEXT
    for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "timed out waiting for '$2' in $1:" >&2; cat "$1" >&2; exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$pglab" db serve >"$work/serve.out" &
pids+=($!)
wait_for "$work/serve.out" "is up"
url=$("$pglab" db url --owner)
psql -q "$url" -c "create database bench"
bench_url=${url%/pglab}/bench
"$pgbench" -i -s 1 -q "$bench_url" >/dev/null 2>&1
# user:password@host:port from the URL, for pgbouncer's config and the proxy's address
creds=${url#postgres://}; creds=${creds%%@*}
user=${creds%%:*}
password=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "${creds#*:}")
server=${url#*@}; server=${server%%/*}
server_port=${server##*:}

bouncer_port=$(free_port)
cat >"$work/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=$server_port dbname=bench user=$user password=$password
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 10
EOF
echo "\"$user\" \"\"" >"$work/userlist.txt"
# The config holds the password: readable by pgbouncer's user only.
chmod 600 "$work"/pgbouncer.ini "$work"/userlist.txt
as_other=()
if [[ $(id -u) == 0 ]]; then
    as_other=(runuser -u postgres --) # pgbouncer refuses to run as root
    chown postgres "$work"/pgbouncer.ini "$work"/userlist.txt
fi
"${as_other[@]}" pgbouncer "$work/pgbouncer.ini" 2>"$work/pgbouncer.log" &
pids+=($!)
sleep 1

run_pgbench() { # run_pgbench URL CLIENTS [pgbench args…]: pgbench's report
    local target=$1 clients=$2
    shift 2
    PGPASSWORD=$password "$pgbench" -n -S -T "$secs" -c "$clients" -j "$clients" "$@" "$target" 2>&1
}
tps() { awk '/^tps = / {print $3; exit}' <<<"$1"; }
count() { awk '/number of transactions actually processed/ {split($NF, a, "/"); print a[1]; exit}' <<<"$1"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks
us_per() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}'; }
start_proxy() {
    "$pglab" proxy --listen 127.0.0.1:0 --upstream "$url" >"$work/proxy.out" 2>&1 &
    proxy=$!
    wait_for "$work/proxy.out" "Ctrl-C"
    proxy_addr=$(awk '/^pglab proxy on / {print $4; exit}' "$work/proxy.out")
}

direct="postgresql://$user@$server/bench"
bouncer="postgresql://$user@127.0.0.1:$bouncer_port/bench"
bouncer_pid=$(pgrep -n -x pgbouncer)
echo "pgbench -S, $secs s per run, $rounds rounds alternating; medians of transactions per second"
printf '%-8s %10s %10s %10s %10s %16s %s\n' clients direct pglab pgbouncer pglab/pgb "cpu µs/tx p/b" "recorded = transactions"
for clients in 1 4; do
    d_tps=() p_tps=() b_tps=() p_cpu=() b_cpu=() check=ok
    for _ in $(seq "$rounds"); do
        d_tps+=("$(tps "$(run_pgbench "$direct" "$clients")")")
        # A fresh proxy per run, so its summary counts this run only.
        start_proxy
        c0=$(cpu_ticks "$proxy")
        out=$(run_pgbench "postgresql://$user@$proxy_addr/bench" "$clients")
        p_cpu+=("$(us_per "$(($(cpu_ticks "$proxy") - c0))" "$(count "$out")")")
        p_tps+=("$(tps "$out")")
        kill -INT "$proxy"; wait "$proxy" || true
        recorded=$(awk '/× SELECT abalance FROM pgbench_accounts/ {print $1; exit}' "$work/proxy.out")
        [[ ${recorded:-0} == "$(count "$out")" ]] || check="MISMATCH: recorded ${recorded:-0} of $(count "$out")"
        c0=$(cpu_ticks "$bouncer_pid")
        out=$(run_pgbench "$bouncer" "$clients")
        b_cpu+=("$(us_per "$(($(cpu_ticks "$bouncer_pid") - c0))" "$(count "$out")")")
        b_tps+=("$(tps "$out")")
    done
    d=$(printf '%s\n' "${d_tps[@]}" | median) p=$(printf '%s\n' "${p_tps[@]}" | median)
    b=$(printf '%s\n' "${b_tps[@]}" | median)
    pc=$(printf '%s\n' "${p_cpu[@]}" | median) bc=$(printf '%s\n' "${b_cpu[@]}" | median)
    printf '%-8s %10.0f %10.0f %10.0f %10.2f %16s %s\n' "$clients" "$d" "$p" "$b" \
        "$(awk -v p="$p" -v b="$b" 'BEGIN {print p / b}')" "$pc / $bc" "$check"
done

# Median round trip at one client, from pgbench's per-transaction log (microseconds).
median_us() {
    local dir=$1 target=$2
    mkdir -p "$dir" && (cd "$dir" && run_pgbench "$target" 1 -l >/dev/null)
    cat "$dir"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
start_proxy
d=$(median_us "$work/log-direct" "$direct")
p=$(median_us "$work/log-proxy" "postgresql://$user@$proxy_addr/bench")
kill -INT "$proxy"; wait "$proxy" || true
echo "median round trip at 1 client: direct ${d} µs, through pglab ${p} µs, added $((p - d)) µs"
