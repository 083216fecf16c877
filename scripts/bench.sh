#!/usr/bin/env bash
# bench.sh: time whole `nvlint lint` processes on generated corpora of
# several mixes and sizes against a floor that only reads and parses the
# same files with hcl/v2 (internal/cmd/parse-floor), in one run,
# alternating, and report medians.
#
# Usage: bash scripts/bench.sh [ROUNDS]      (default 3 rounds)
#
# Measures, for every mix (internal/corpus ParseMix), with the targets of
# the issues on measured speed and on cost linear in every kind:
#   - lint / floor at 5,000 files, median of the per-round ratios  (<= 1.5)
#   - growth: the ratio at 8,000 files over the ratio at 1,000     (<= 1.15)
#   - peak RSS of lint at 5,000 files (max over rounds)           (< 300 MB)
# The table also gives the ratio of CPU time (user+sys), lint over floor,
# which moves less than wall time when others load the machine.
# and, on the default mix:
#   - CPU use: (user+sys) / wall at 5,000 files                    (2 cores: > 1.3)
#   - one file, process start included, median of 21 runs          (< 30 ms)
#
# Environment:
#   NVLINT_BENCH_DIR    keep the corpora and binaries there (default: a
#                       temporary directory, removed at exit)
#   NVLINT_BENCH_SEED   corpus seed (default 1)
#   NVLINT_BENCH_MIXES  the mixes (default "default platform role-heavy policy-heavy")
#   NVLINT_BENCH_SIZES  the sizes (default "1000 5000 8000"; the first and
#                       last give the growth, 5000 the ratio target)
#   NVLINT_BENCH_BASE   a git revision to time as well, side by side
#                       ("before" columns), built from `git archive`
# Needs GNU time at /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${1:-3}"
SEED="${NVLINT_BENCH_SEED:-1}"
MIXES="${NVLINT_BENCH_MIXES:-default platform role-heavy policy-heavy}"
SIZES="${NVLINT_BENCH_SIZES:-1000 5000 8000}"
BASE="${NVLINT_BENCH_BASE:-}"
read -r -a sizes <<<"$SIZES"
FIRST="${sizes[0]}"
LAST="${sizes[${#sizes[@]} - 1]}"
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
if [ -n "$BASE" ]; then
	echo "== building nvlint at $BASE"
	rm -rf "$WORK/base-src"
	mkdir -p "$WORK/base-src"
	git archive "$BASE" | tar -x -C "$WORK/base-src"
	(cd "$WORK/base-src" && go build -o "$WORK/nvlint-base" ./cmd/nvlint)
fi
for mix in $MIXES; do
	for n in "${sizes[@]}"; do
		d="$WORK/corpus-$mix-$n-$SEED"
		if [ ! -d "$d" ]; then
			echo "== generating a $n-file corpus, mix $mix (seed $SEED)"
			go run ./internal/cmd/nvlint-corpus -files "$n" -seed "$SEED" -mix "$mix" "$d"
		fi
	done
done

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
spread() { sort -g | awk '{a[NR]=$1} END {printf "%.2f-%.2f", a[1], a[NR]}'; }
col() { awk -v c="$2" '{print $c}' "$WORK/$1.times"; }
ratios() { paste -d' ' <(col "$1" 1) <(col "$2" 1) | awk '{print $1/$2}'; }
cpuratios() { paste -d' ' <(col "$1" 2) <(col "$2" 2) | awk '{print ($2 > 0 ? $1/$2 : 0)}'; }

rm -f "$WORK"/*.times
echo "== warming the page cache"
for mix in $MIXES; do
	"$WORK/parse-floor" "$WORK/corpus-$mix-$LAST-$SEED" >/dev/null
done

echo "== $ROUNDS rounds, alternating lint and floor$([ -n "$BASE" ] && echo " and $BASE")"
for r in $(seq 1 "$ROUNDS"); do
	for mix in $MIXES; do
		for n in "${sizes[@]}"; do
			d="$WORK/corpus-$mix-$n-$SEED"
			run "lint-$mix-$n" "$WORK/nvlint" lint --color never "$d"
			run "floor-$mix-$n" "$WORK/parse-floor" "$d"
			if [ -n "$BASE" ]; then
				run "base-$mix-$n" "$WORK/nvlint-base" lint --color never "$d"
			fi
			printf '   round %d, %s, %5d files: lint %ss floor %ss%s\n' "$r" "$mix" "$n" \
				"$(tail -1 "$WORK/lint-$mix-$n.times" | cut -d' ' -f1)" "$(tail -1 "$WORK/floor-$mix-$n.times" | cut -d' ' -f1)" \
				"$([ -n "$BASE" ] && echo " before $(tail -1 "$WORK/base-$mix-$n.times" | cut -d' ' -f1)s")"
		done
	done
done
ONE="$(find "$WORK/corpus-$(set -- $MIXES; echo "$1")-$FIRST-$SEED/nomad/jobs" -name '*.nomad.hcl' | sort | sed -n 1p)"
for i in $(seq 1 21); do
	run one "$WORK/nvlint" lint --color never "$ONE"
done

verdict() { if awk "BEGIN {exit !($1)}"; then echo ok; else echo MISSED; fi; }
echo
echo "nvlint bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds, corpus seed $SEED, $(go version | cut -d' ' -f3)"
echo
printf '%-13s %6s %9s %9s %17s %9s %8s' "mix" "files" "lint s" "floor s" "lint/floor" "CPU l/f" "RSS MB"
[ -n "$BASE" ] && printf ' %9s %12s' "before s" "before/floor"
echo
for mix in $MIXES; do
	for n in "${sizes[@]}"; do
		printf '%-13s %6d %9.3f %9.3f %6.2fx %10s %8.2fx %8d' "$mix" "$n" \
			"$(col "lint-$mix-$n" 1 | median)" "$(col "floor-$mix-$n" 1 | median)" \
			"$(ratios "lint-$mix-$n" "floor-$mix-$n" | median)" "($(ratios "lint-$mix-$n" "floor-$mix-$n" | spread))" \
			"$(cpuratios "lint-$mix-$n" "floor-$mix-$n" | median)" \
			"$(($(col "lint-$mix-$n" 3 | sort -g | tail -1) / 1024))"
		if [ -n "$BASE" ]; then
			printf ' %9.3f %11.2fx' "$(col "base-$mix-$n" 1 | median)" "$(ratios "base-$mix-$n" "floor-$mix-$n" | median)"
		fi
		echo
	done
done

echo
printf '%-13s %14s %12s %18s %14s\n' "mix" "ratio at 5000" "(<= 1.5x)" "growth $FIRST->$LAST" "(<= 1.15)" 
for mix in $MIXES; do
	first=$(ratios "lint-$mix-$FIRST" "floor-$mix-$FIRST" | median)
	last=$(ratios "lint-$mix-$LAST" "floor-$mix-$LAST" | median)
	growth=$(awk -v a="$last" -v b="$first" 'BEGIN {printf "%.2f", a/b}')
	if [ -f "$WORK/lint-$mix-5000.times" ]; then
		r5=$(ratios "lint-$mix-5000" "floor-$mix-5000" | median)
		printf '%-13s %13.2fx %12s' "$mix" "$r5" "$(verdict "$r5 <= 1.5")"
	else
		printf '%-13s %14s %12s' "$mix" "-" ""
	fi
	printf ' %18s %14s\n' "$growth" "$(verdict "$growth <= 1.15")"
done

echo
first="$(set -- $MIXES; echo "$1")"
if [ -f "$WORK/lint-$first-5000.times" ]; then
	cpu=$(paste -d' ' <(col "lint-$first-5000" 2) <(col "lint-$first-5000" 1) | awk '{print $1/$2}' | median)
	printf '%-44s %11.2fx %12s %s\n' "CPU use, $first, 5000 files ((user+sys)/wall)" "$cpu" "> 1.3x" "$(verdict "$cpu > 1.3")"
fi
for n in 5000 "$LAST"; do
	rss=0
	for mix in $MIXES; do
		[ -f "$WORK/lint-$mix-$n.times" ] || continue
		m=$(col "lint-$mix-$n" 3 | sort -g | tail -1)
		[ "$m" -gt "$rss" ] && rss=$m
	done
	if [ "$n" = 5000 ]; then
		printf '%-44s %9d MB %12s %s\n' "peak RSS, $n files, any mix (max)" "$((rss / 1024))" "< 300 MB" "$(verdict "$rss < 300*1024")"
	elif [ "$rss" -gt 0 ]; then
		printf '%-44s %9d MB\n' "peak RSS, $n files, any mix (max)" "$((rss / 1024))"
	fi
done
one=$(col one 1 | median)
printf '%-44s %10.1fms %12s %s\n' "one file incl. process start (median of 21)" "$(awk -v o="$one" 'BEGIN {print o*1000}')" "< 30 ms" "$(verdict "$one < 0.030")"
