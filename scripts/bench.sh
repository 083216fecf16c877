#!/usr/bin/env bash
# bench.sh: time whole `nvlint lint` processes on generated corpora against
# a floor that only reads and parses the same files with hcl/v2
# (internal/cmd/parse-floor), in one run, alternating, and report medians.
#
# Usage: bash scripts/bench.sh [ROUNDS]      (default 7 rounds)
#
# Measures, with the targets of the "measured speed and robustness" issue:
#   - lint / floor at 5,000 files, median of the per-round ratios  (<= 1.5)
#   - scaling: time per file at 5,000 over time per file at 500    (near 1)
#   - CPU use: (user+sys) / wall at 5,000 files                    (2 cores: > 1.3)
#   - peak RSS of lint at 5,000 files (max over rounds)            (< 300 MB)
#   - one file, process start included, median of 21 runs          (< 30 ms)
#
# Environment: NVLINT_BENCH_DIR keeps the corpora and binaries there
# (default: a temporary directory, removed at exit); NVLINT_BENCH_SEED
# (default 1). Needs GNU time at /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${1:-7}"
SEED="${NVLINT_BENCH_SEED:-1}"
[ -x /usr/bin/time ] || {
	echo "bench.sh: needs GNU time at /usr/bin/time (Debian package time)" >&2
	exit 2
}

if [ -n "${NVLINT_BENCH_DIR:-}" ]; then
	WORK="$NVLINT_BENCH_DIR"
	mkdir -p "$WORK"
else
	WORK="$(mktemp -d)"
	trap 'rm -rf "$WORK"' EXIT
fi

echo "== building nvlint and the parse-only floor"
go build -o "$WORK/nvlint" ./cmd/nvlint
go build -o "$WORK/parse-floor" ./internal/cmd/parse-floor
for n in 500 5000; do
	if [ ! -d "$WORK/corpus-$n" ]; then
		echo "== generating a $n-file corpus (seed $SEED)"
		go run ./internal/cmd/nvlint-corpus -files "$n" -seed "$SEED" "$WORK/corpus-$n"
	fi
done
ONE="$(find "$WORK/corpus-500/nomad/jobs" -name '*.nomad.hcl' | sort | head -1)"

# run NAME CMD...: run once; append "wall_seconds cpu_seconds max_rss_kb"
# to $WORK/NAME.times. Exit codes 0 and 1 (findings) are both fine.
run() {
	local name="$1" start end rc
	shift
	start=$EPOCHREALTIME
	set +e
	/usr/bin/time -f "%U %S %M" -o "$WORK/time.out" "$@" >/dev/null 2>"$WORK/stderr.out"
	rc=$?
	set -e
	end=$EPOCHREALTIME
	if [ "$rc" -gt 1 ]; then
		echo "bench.sh: $* exited $rc:" >&2
		cat "$WORK/stderr.out" >&2
		exit 1
	fi
	# GNU time says "Command exited with non-zero status 1" first.
	tail -1 "$WORK/time.out" | awk -v s="$start" -v e="$end" '{printf "%.4f %.2f %d\n", e-s, $1+$2, $3}' >>"$WORK/$name.times"
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -v c="$2" '{print $c}' "$WORK/$1.times"; }

rm -f "$WORK"/*.times
echo "== warming the page cache"
"$WORK/nvlint" lint --color never "$WORK/corpus-5000" >/dev/null || true
"$WORK/parse-floor" "$WORK/corpus-5000" >/dev/null

echo "== $ROUNDS rounds, alternating lint and floor"
for r in $(seq 1 "$ROUNDS"); do
	run lint5000 "$WORK/nvlint" lint --color never "$WORK/corpus-5000"
	run floor5000 "$WORK/parse-floor" "$WORK/corpus-5000"
	run lint500 "$WORK/nvlint" lint --color never "$WORK/corpus-500"
	run floor500 "$WORK/parse-floor" "$WORK/corpus-500"
	printf '   round %d: lint %ss floor %ss\n' "$r" "$(tail -1 "$WORK/lint5000.times" | cut -d' ' -f1)" "$(tail -1 "$WORK/floor5000.times" | cut -d' ' -f1)"
done
for i in $(seq 1 21); do
	run one "$WORK/nvlint" lint --color never "$ONE"
done

ratio5000=$(paste -d' ' <(col lint5000 1) <(col floor5000 1) | awk '{print $1/$2}' | median)
ratio500=$(paste -d' ' <(col lint500 1) <(col floor500 1) | awk '{print $1/$2}' | median)
lint5000=$(col lint5000 1 | median)
lint500=$(col lint500 1 | median)
floor5000=$(col floor5000 1 | median)
floor500=$(col floor500 1 | median)
scaling=$(awk -v a="$lint5000" -v b="$lint500" 'BEGIN {printf "%.2f", (a/5000)/(b/500)}')
cpu=$(paste -d' ' <(col lint5000 2) <(col lint5000 1) | awk '{print $1/$2}' | median)
rss=$(col lint5000 3 | sort -g | tail -1)
rss500=$(col lint500 3 | sort -g | tail -1)
one=$(col one 1 | median)

verdict() { if awk "BEGIN {exit !($1)}"; then echo ok; else echo MISSED; fi; }
echo
echo "nvlint bench: $(nproc) CPUs, $ROUNDS rounds, corpus seed $SEED, $(go version | cut -d' ' -f3)"
printf '%-44s %12s %12s %s\n' "measure" "value" "target" ""
printf '%-44s %11.2fx %12s %s\n' "lint / parse floor, 5000 files (median)" "$ratio5000" "<= 1.5x" "$(verdict "$ratio5000 <= 1.5")"
printf '%-44s %11.2fx %12s\n' "lint / parse floor, 500 files (median)" "$ratio500" ""
printf '%-44s %11.3fs %12s\n' "lint, 5000 files (median wall)" "$lint5000" ""
printf '%-44s %11.3fs %12s\n' "floor, 5000 files (median wall)" "$floor5000" ""
printf '%-44s %11.3fs %12s\n' "lint, 500 files (median wall)" "$lint500" ""
printf '%-44s %11.3fs %12s\n' "floor, 500 files (median wall)" "$floor500" ""
printf '%-44s %12s %12s %s\n' "scaling: per-file time 5000 / 500" "$scaling" "~1 (<= 1.3)" "$(verdict "$scaling <= 1.3")"
printf '%-44s %11.2fx %12s %s\n' "CPU use, 5000 files ((user+sys)/wall)" "$cpu" "> 1.3x" "$(verdict "$cpu > 1.3")"
printf '%-44s %9d MB %12s %s\n' "peak RSS, 5000 files (max)" "$((rss / 1024))" "< 300 MB" "$(verdict "$rss < 300*1024")"
printf '%-44s %9d MB %12s\n' "peak RSS, 500 files (max)" "$((rss500 / 1024))" ""
printf '%-44s %10.1fms %12s %s\n' "one file incl. process start (median of 21)" "$(awk -v o="$one" 'BEGIN {print o*1000}')" "< 30 ms" "$(verdict "$one < 0.030")"
