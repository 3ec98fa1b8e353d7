#!/usr/bin/env bash
# The lab as a user starts it, in a real terminal (tmux), on an initialised cluster:
# - start to the first interactive frame (the lesson list; target < 500 ms) and to the
#   database being ready, against the same tmux harness showing a line from `sh` (its own
#   overhead), measured in the same run;
# - resident memory after the N+1 lesson's scale table (10 … 10,000 posts; target < 100 MB),
#   against the lab's own memory right after it started.
# Frame render time is `cargo bench --bench render`.
#
#   bash bench/tui.sh [runs]        (default 5; builds a release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
pglab=$PWD/target/release/pglab
source bench/timing.sh

work=$(mktemp -d /tmp/pglab-bench-tui.XXXXXX)
chmod 755 "$work" # the server may run as another user (when run as root)
terminals=0
socket=pglab-bench-$$-0
cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null || true
    PGLAB_DATA_DIR=$work "$pglab" db stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
PGLAB_DATA_DIR=$work "$pglab" db status >/dev/null # initdb, migrations and seed, once

now_ms() { date +%s%3N; }
# until NEEDLE: waits for NEEDLE on the screen (60 s at most).
until_screen() {
    local deadline=$(($(now_ms) + 60000))
    until tmux -L "$socket" capture-pane -p 2>/dev/null | grep -qF -- "$1"; do
        (($(now_ms) < deadline)) || { echo "timed out waiting for '$1'" >&2; exit 1; }
        sleep 0.005
    done
}
# open CMD: a fresh 100x30 terminal running CMD (a tmux server of its own: a server just
# told to quit may still hold its socket).
open_terminal() {
    tmux -L "$socket" kill-server 2>/dev/null || true
    terminals=$((terminals + 1))
    socket=pglab-bench-$$-$terminals
    tmux -L "$socket" -f /dev/null new-session -d -x 100 -y 30 \
        "env PGLAB_DATA_DIR=$work TERM=xterm-256color $1; sleep 60"
}
lab_pid() { pgrep -f -n "^$pglab\$"; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

first=() ready=() harness=()
for _ in $(seq "$runs"); do
    start=$(now_ms)
    open_terminal "sh -c 'echo Lessons'"
    until_screen "Lessons"
    harness+=($(($(now_ms) - start)))

    start=$(now_ms)
    open_terminal "$pglab"
    until_screen "The N+1 problem"
    first+=($(($(now_ms) - start)))
    until_screen "pglab_learner@"
    ready+=($(($(now_ms) - start)))
    tmux -L "$socket" send-keys q
done
harness_ms=$(printf '%s\n' "${harness[@]}" | median)
first_ms=$(printf '%s\n' "${first[@]}" | median)
ready_ms=$(printf '%s\n' "${ready[@]}" | median)
echo "start to first frame, median of $runs (target < 500 ms)"
printf '  %-38s %6s ms\n' "tmux harness showing one line (sh)" "$harness_ms"
printf '  %-38s %6s ms   ratio %.2f\n' "pglab: the lesson list on screen" "$first_ms" \
    "$(awk -v a="$first_ms" -v b="$harness_ms" 'BEGIN {print a / b}')"
printf '  %-38s %6s ms   ratio %.2f\n' "pglab: database ready (status bar)" "$ready_ms" \
    "$(awk -v a="$ready_ms" -v b="$harness_ms" 'BEGIN {print a / b}')"

open_terminal "$pglab"
until_screen "pglab_learner@"
pid=$(lab_pid)
started_mb=$(rss_mb "$pid")
tmux -L "$socket" send-keys Enter
until_screen "step 1 of 12"
for _ in $(seq 9); do tmux -L "$socket" send-keys Right; done
until_screen "step 7 of 12"
scale_start=$(now_ms)
tmux -L "$socket" send-keys Enter
until_screen "query) · "
scale_s=$(awk -v a="$(now_ms)" -v b="$scale_start" 'BEGIN {printf "%.1f", (a - b) / 1000}')
after_mb=$(rss_mb "$pid")
echo "resident memory (target < 100 MB)"
printf '  %-38s %6s MB\n' "pglab just started" "$started_mb"
printf '  %-38s %6s MB   ratio %.2f   (the scale run took %s s)\n' "after the 10,000-post scale table" \
    "$after_mb" "$(awk -v a="$after_mb" -v b="$started_mb" 'BEGIN {print a / b}')" "$scale_s"
tmux -L "$socket" capture-pane -p > "${SCREEN_OUT:-/dev/null}"
tmux -L "$socket" send-keys q
