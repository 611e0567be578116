#!/usr/bin/env bash
# Streams over ZeroMQ against a pipe, and nn-farm's scaling, in one run:
#  - 784-f32 records (RECORDS, default 30000: 94 MB) from nn-cat to nn-cat through a pipe,
#    through ZeroMQ tcp on loopback and through ipc; median of RUNS (default 3) each, in turn;
#  - nn-encode of ENCODE records (default 200000, 28x28 u8) with a VAE (784-400-20, trained for
#    one epoch on made-up images: the speed does not depend on the weights) by nn-farm with 1
#    and with 2 workers, one OpenBLAS thread each, and by one nn-encode process for reference.
#    The farm's times include its 0.3 s wait for late workers at the end.
# Uses the 2 cores; run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${RECORDS:-30000}
runs=${RUNS:-3}
encode_n=${ENCODE:-200000}
make -s all tests/bin/nn-mkstream
export OPENBLAS_NUM_THREADS=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tests/bin/nn-mkstream --count "$records" --shape 784 --values random > "$dir/s.nns"
bytes=$(stat -c %s "$dir/s.nns")
cat "$dir/s.nns" > /dev/null     # into the page cache
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}'; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

one() {   # seconds to move the stream with transport $1
    local t0=$EPOCHREALTIME
    case $1 in
    pipe) bin/nn-cat "$dir/s.nns" | bin/nn-cat > /dev/null ;;
    tcp)  bin/nn-cat "zmq:bind:tcp://127.0.0.1:$port" > /dev/null &
          bin/nn-cat "$dir/s.nns" -o "zmq:tcp://127.0.0.1:$port"
          wait $! ;;
    ipc)  bin/nn-cat "zmq:bind:ipc://$dir/s.sock" > /dev/null &
          bin/nn-cat "$dir/s.nns" -o "zmq:ipc://$dir/s.sock"
          wait $! ;;
    esac
    elapsed "$t0"
}

for t in pipe tcp ipc; do : > "$dir/$t"; done
for ((i = 0; i < runs; i++)); do
    for t in pipe tcp ipc; do one "$t" >> "$dir/$t"; done
done
echo "stream: $records records of 784 f32, $bytes bytes, median of $runs runs;" \
     "threads: one sender and one reader process (ZeroMQ: 1 I/O thread each)"
declare -A mb
for t in pipe tcp ipc; do
    s=$(median < "$dir/$t")
    mb[$t]=$(awk -v b="$bytes" -v s="$s" 'BEGIN {printf "%.0f", b / s / 1e6}')
    printf '  %-4s %6.3f s  %8.0f records/s  %5s MB/s\n' "$t" "$s" \
        "$(awk -v n="$records" -v s="$s" 'BEGIN {print n / s}')" "${mb[$t]}"
done

# nn-encode: one process, then nn-farm with 1 and 2 workers.
tests/bin/nn-mkstream --count 5000 --shape 28x28x1 --dtype u8 --values random --seed 1 > "$dir/train.nns"
bin/nn-vae-train "$dir/train.nns" -o "$dir/vae.nns" --epochs 1 --hidden 400 --latent 20 -t 2 2>/dev/null
tests/bin/nn-mkstream --count "$encode_n" --shape 28x28x1 --dtype u8 --values random --seed 2 > "$dir/in.nns"
t0=$EPOCHREALTIME
bin/nn-encode -m "$dir/vae.nns" "$dir/in.nns" > "$dir/z0.nns"
single_s=$(elapsed "$t0")
farm() {   # seconds for nn-farm with $1 workers
    local e="ipc://$dir/farm.sock" pids=() t0
    for ((k = 0; k < $1; k++)); do
        bin/nn-encode -m "$dir/vae.nns" --worker "$e" &
        pids+=($!)
    done
    sleep 0.3
    t0=$EPOCHREALTIME
    bin/nn-farm -w "$e" "$dir/in.nns" -o "$dir/z$1.nns"
    elapsed "$t0"
    for pid in "${pids[@]}"; do wait "$pid"; done
}
w1_s=$(farm 1)
w2_s=$(farm 2)
cmp -s <(bin/nn-cat --json --data "$dir/z0.nns") <(bin/nn-cat --json --data "$dir/z2.nns") ||
    { echo "bench: the farm's records differ from nn-encode's" >&2; exit 1; }
rate() { awk -v n="$encode_n" -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }
echo "nn-encode: $encode_n records 28x28 u8, VAE 784-400-20, OpenBLAS 1 thread per process" \
     "($(nproc) cores; the farm: 2 threads)"
echo "  one nn-encode        $(printf %.3f "$single_s") s  $(rate "$single_s") records/s"
echo "  nn-farm + 1 worker   $(printf %.3f "$w1_s") s  $(rate "$w1_s") records/s"
echo "  nn-farm + 2 workers  $(printf %.3f "$w2_s") s  $(rate "$w2_s") records/s"
printf 'bench: pipe_mb_s=%s tcp_mb_s=%s ipc_mb_s=%s tcp_ratio=%.2f encode_2w_speedup=%.2f\n' \
    "${mb[pipe]}" "${mb[tcp]}" "${mb[ipc]}" \
    "$(awk -v a="${mb[tcp]}" -v b="${mb[pipe]}" 'BEGIN {print a / b}')" \
    "$(awk -v a="$w1_s" -v b="$w2_s" 'BEGIN {print a / b}')"
