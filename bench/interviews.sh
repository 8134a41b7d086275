#!/usr/bin/env bash
# `kinship interview RUN --where exfiltration --questions builtin` against the scripted exfiltrating agent: interviews
# per second and peak resident memory, on a small and a large run.
#
#   bench/interviews.sh                  # from the repository root
#   SMALL_N=50 N=500 REPS=3 CONCURRENCY=8 bench/interviews.sh
#
# Builds the CLI in Release, runs `kinship run -m scripted/exfiltrate -s exfiltration-transfer` at SMALL_N and N
# rollouts (20 conditions each: 1,000 and 10,000 episodes by default) into fresh SQLite stores in a temp folder, then
# times the interview of every exfiltrating episode REPS times (each with --again, so every repetition interviews every
# episode) with /usr/bin/time and prints the median wall time, interviews per second and median peak RSS. The ratios
# (large over small) are measured in the same invocation. The temp folder is deleted on exit.
set -euo pipefail

SMALL_N=${SMALL_N:-50}
N=${N:-500}
REPS=${REPS:-3}
CONCURRENCY=${CONCURRENCY:-8}
source "$(dirname "$0")/preamble.sh"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench ROLLOUTS: a run into its own store, then REPS timed interviews; sets count, wall, rss_kb (medians).
bench() {
    local n=$1 out="$tmp/run-$1.out" run i walls=() rsss=()
    "$CLI" run -m scripted/exfiltrate -s exfiltration-transfer -n "$n" --store "$tmp/k$n.db" >"$out"
    run=$(grep -o 'run [0-9]\{8\}-[0-9]\{6\}-[0-9a-f]*' "$out" | tail -n 1 | cut -d' ' -f2)
    for ((i = 0; i < REPS; i++)); do
        /usr/bin/time -f '%e %M' -o "$tmp/time" "$CLI" interview "$run" --where exfiltration --questions builtin \
            --concurrency "$CONCURRENCY" --again --store "$tmp/k$n.db" >"$tmp/interview.out"
        read -r w r <"$tmp/time"
        walls+=("$w")
        rsss+=("$r")
    done
    count=$(grep -o 'Stored [0-9,]* interview' "$tmp/interview.out" | grep -o '[0-9,]*' | tr -d ,)
    wall=$(printf '%s\n' "${walls[@]}" | median)
    rss_kb=$(printf '%s\n' "${rsss[@]}" | median)
}

bench "$SMALL_N"
small_count=$count small_wall=$wall small_rss=$rss_kb
bench "$N"
echo "interviews (builtin set, 7 questions of which 6-7 asked), scripted/exfiltrate, concurrency $CONCURRENCY, median of $REPS"
printf '| episodes interviewed | s | interviews/s | peak RSS MB |\n|---:|---:|---:|---:|\n'
for row in "$small_count $small_wall $small_rss" "$count $wall $rss_kb"; do
    read -r c w r <<<"$row"
    awk -v c="$c" -v w="$w" -v r="$r" 'BEGIN { printf "| %d | %.2f | %.0f | %.0f |\n", c, w, c / w, r / 1024 }'
done
awk -v c1="$small_count" -v w1="$small_wall" -v r1="$small_rss" -v c2="$count" -v w2="$wall" -v r2="$rss_kb" \
    'BEGIN { printf "ratios large/small: episodes %.1fx, time %.2fx, interviews/s %.2fx, peak RSS %.2fx\n", c2 / c1, w2 / w1, (c2 / w2) / (c1 / w1), r2 / r1 }'
