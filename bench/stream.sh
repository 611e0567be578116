#!/usr/bin/env bash
# Throughput of nn-cat in a pipe against plain cat of the same bytes: records of 784 f32
# values, `cat FILE | X | cat > /dev/null` with X = nn-cat or cat, alternating, median of RUNS.
# Run on a quiet machine. RECORDS and RUNS set the size.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${RECORDS:-100000}
runs=${RUNS:-7}
make -s all tests/bin/nn-mkstream
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tests/bin/nn-mkstream --count "$records" --shape 784 --values random > "$dir/s.nns"
bytes=$(stat -c %s "$dir/s.nns")
cat "$dir/s.nns" > /dev/null     # into the page cache

seconds() {   # seconds taken by the pipeline with $1 in the middle
    local t0=$EPOCHREALTIME
    cat "$dir/s.nns" | $1 | cat > /dev/null
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}'

}
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

: > "$dir/nn"
: > "$dir/cat"
for ((i = 0; i < runs; i++)); do
    seconds bin/nn-cat >> "$dir/nn"
    seconds cat >> "$dir/cat"
done
nn_s=$(median < "$dir/nn")
cat_s=$(median < "$dir/cat")
nn_mb=$(awk -v b="$bytes" -v s="$nn_s" 'BEGIN {print b / s / 1e6}')
cat_mb=$(awk -v b="$bytes" -v s="$cat_s" 'BEGIN {print b / s / 1e6}')
echo "stream: $records records, $bytes bytes, median of $runs runs; threads: nn-cat 1, cat 1" \
     "(OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}, not used here)"
echo "nn-cat: $(printf %.3f "$nn_s") s   cat: $(printf %.3f "$cat_s") s"
printf 'bench: records=%d nn_cat_mb_s=%.0f cat_mb_s=%.0f ratio=%.3f\n' "$records" "$nn_mb" "$cat_mb" \
    "$(awk -v a="$nn_mb" -v b="$cat_mb" 'BEGIN {print a / b}')"
