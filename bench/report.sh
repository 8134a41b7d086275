#!/usr/bin/env bash
# `kinship report` on a `--preset study` run of one scripted agent: wall time and peak resident memory per format.
#
#   bench/report.sh                      # from the repository root
#   MODEL=scripted/faithful REPS=5 bench/report.sh
#
# Builds the CLI in Release, runs the study preset twice into fresh SQLite stores in a temp folder (N rollouts, the
# study's 27,500 episodes at 100, and SMALL_N rollouts), then times `kinship report RUN --format F --out FILE` for
# each format REPS times with /usr/bin/time and prints the median wall time and median peak RSS. The ratios are
# measured in the same invocation, so they hold across machines better than the absolute figures: report time on the
# large run over the small one, and over the large run's own `kinship run` time. The temp folder is deleted on exit.
set -euo pipefail

MODEL=${MODEL:-scripted/inflate}
N=${N:-100}
SMALL_N=${SMALL_N:-5}
REPS=${REPS:-3}
FORMATS=${FORMATS:-"table json html"}
source "$(dirname "$0")/preamble.sh"

# timed OUT CMD...: runs CMD with its stdout in OUT and leaves "wall_seconds max_rss_kb" in $tmp/time.
timed() {
    local out=$1
    shift
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# study ROLLOUTS: runs the preset into its own store; sets run_id, run_episodes, run_wall, run_rss_kb.
study() {
    local n=$1 out="$tmp/run-$1.out"
    timed "$out" "$CLI" run --preset study -n "$n" -m "$MODEL" --store "$tmp/k$n.db"
    read -r run_wall run_rss_kb <"$tmp/time"
    run_id=$(grep -o 'run [0-9]\{8\}-[0-9]\{6\}-[0-9a-f]*' "$out" | tail -n 1 | cut -d' ' -f2)
    run_episodes=$(grep -o '^[0-9,]* episodes' "$out" | tail -n 1 | cut -d' ' -f1)
    [[ -n $run_id ]] || { echo "bench/report.sh: no run id in the output of kinship run -n $n" >&2; exit 1; }
}

# report ROLLOUTS RUN FORMAT: REPS timed reports; sets rep_wall and rep_rss_kb to the medians.
report() {
    local n=$1 run=$2 format=$3 dest i walls=() rsss=()
    case $format in
        html) dest="$tmp/html-$n" ;;        # a folder: what kinship writes for a run above 2,000 episodes
        *) dest="$tmp/report-$n.$format" ;;
    esac
    for ((i = 0; i < REPS; i++)); do
        rm -rf "$dest"
        timed /dev/null "$CLI" report "$run" --store "$tmp/k$n.db" --format "$format" --out "$dest"
        read -r w r <"$tmp/time"
        walls+=("$w")
        rsss+=("$r")
    done
    rep_wall=$(printf '%s\n' "${walls[@]}" | median)
    rep_rss_kb=$(printf '%s\n' "${rsss[@]}" | median)
}

declare -A wall rss
study "$SMALL_N"
small_id=$run_id small_episodes=$run_episodes small_run_wall=$run_wall small_run_rss=$run_rss_kb
study "$N"
large_id=$run_id large_episodes=$run_episodes large_run_wall=$run_wall large_run_rss=$run_rss_kb

for f in $FORMATS; do
    report "$SMALL_N" "$small_id" "$f"
    wall[$SMALL_N,$f]=$rep_wall rss[$SMALL_N,$f]=$rep_rss_kb
    report "$N" "$large_id" "$f"
    wall[$N,$f]=$rep_wall rss[$N,$f]=$rep_rss_kb
done

echo
echo "kinship report, --preset study -m $MODEL, median of $REPS ($(nproc) cores, $(date -u +%F))"
printf '%-9s %10s %12s %12s %14s %14s %14s\n' format "-n $SMALL_N s" "-n $SMALL_N MB" "-n $N s" "-n $N MB" \
    "x -n $SMALL_N" "x run -n $N"
for f in $FORMATS; do
    awk -v f="$f" -v sw="${wall[$SMALL_N,$f]}" -v sr="${rss[$SMALL_N,$f]}" -v lw="${wall[$N,$f]}" \
        -v lr="${rss[$N,$f]}" -v rw="$large_run_wall" 'BEGIN {
            printf "%-9s %10.2f %12.0f %12.2f %14.0f %14.2f %14.2f\n",
                f, sw, sr / 1024, lw, lr / 1024, (sw > 0 ? lw / sw : 0), (rw > 0 ? lw / rw : 0) }'
done
awk -v se="$small_episodes" -v sw="$small_run_wall" -v sr="$small_run_rss" -v le="$large_episodes" \
    -v lw="$large_run_wall" -v lr="$large_run_rss" -v sn="$SMALL_N" -v n="$N" 'BEGIN {
        printf "kinship run -n %s: %s episodes, %.2f s, %.0f MB; -n %s: %s episodes, %.2f s, %.0f MB (one run each)\n",
            sn, se, sw, sr / 1024, n, le, lw, lr / 1024 }'
ls -l "$tmp/k$N.db" | awk '{ printf "store for -n %s: %.0f MB\n", n, $5 / 1048576 }' n="$N"
