#!/usr/bin/env bash
# nn-vae-train against PyTorch (Debian's python3-torch, CPU) on Fashion-MNIST: the classic VAE
# example (784-400-20, ReLU, sigmoid, BCE + KL, Adam 1e-3, batch 128), the same epochs, in one
# run. PyTorch runs in both thread set-ups (torch 2 threads with OpenBLAS 1; torch 1 with
# OpenBLAS 2) and the faster counts. Also the floor (the epoch's matrix products alone) and
# nn-encode of all 70,000 images against PyTorch's encoder. EPOCHS=10 by default; EPOCHS=2
# for a quick run. Run on a quiet machine; uses the 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-10}
data=/usr/share/datasets/fashion-mnist
make -s all
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cc -O2 -o "$dir/floor" bench/sgemm_floor.c $(pkg-config --cflags --libs openblas)

bin/nn-ingest "$data" -o "$dir/all.nns" 2>/dev/null
bin/nn-cat --filter group=train "$dir/all.nns" > "$dir/train.nns"
bin/nn-cat --filter group=t10k "$dir/all.nns" > "$dir/test.nns"

# Ours: two worker threads, each with single-threaded OpenBLAS.
bin/nn-vae-train "$dir/train.nns" --val "$dir/test.nns" -o "$dir/vae.nns" --threads 2 \
    -m "$dir/log.jsonl" --epochs "$epochs" --hidden 400 --latent 20 --batch 128 --lr 1e-3
nn_epoch_s=$(grep '"epoch":' "$dir/log.jsonl" | sed 's/.*"seconds":\([0-9.]*\).*/\1/' | sort -g |
             awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
nn_test_loss=$(tail -1 "$dir/log.jsonl" | sed 's/.*"val_loss":\([0-9.]*\).*/\1/')
t0=$EPOCHREALTIME
OPENBLAS_NUM_THREADS=2 bin/nn-encode -m "$dir/vae.nns" "$dir/all.nns" -o "$dir/z.nns"
nn_encode_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')

# PyTorch, both thread set-ups.
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 /usr/bin/python3 bench/vae_torch.py 2 "$epochs" "$data" > "$dir/t2.json"
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=1 /usr/bin/python3 bench/vae_torch.py 1 "$epochs" "$data" > "$dir/t1.json"
read -r torch_epoch_s torch_test_loss torch_encode torch_setup < <(/usr/bin/python3 - "$dir" <<'PY'
import json, sys, statistics
runs = {name: json.load(open(f"{sys.argv[1]}/{f}")) for name, f in
        (("torch 2 threads, OpenBLAS 1", "t2.json"), ("torch 1 thread, OpenBLAS 2", "t1.json"))}
best = min(runs, key=lambda n: statistics.median(runs[n]["epoch_s"]))
r = runs[best]
for n, v in runs.items():
    print(f"# {n}: median epoch {statistics.median(v['epoch_s']):.3f} s", file=sys.stderr)
print(f"{statistics.median(r['epoch_s']):.3f} {r['test_loss']:.3f} {r['encode_images_s']:.0f} {best.replace(' ', '_')}")
PY
)
# The floor: the epoch's products alone, as the two workers run them (two single-threaded
# halves at once, 64 rows each); and, for reference, OpenBLAS with 2 threads at 128 rows.
OPENBLAS_NUM_THREADS=1 "$dir/floor" 30000 64 > "$dir/f1" & OPENBLAS_NUM_THREADS=1 "$dir/floor" 30000 64 > "$dir/f2"
wait
read -r floor_gflop floor_s floor_rate < <(cat "$dir/f1" "$dir/f2" | awk '{g += $1; if ($2 > s) s = $2} END {printf "%.1f %.3f %.1f\n", g, s, g / s}')
read -r _ blas2_s blas2_rate < <(OPENBLAS_NUM_THREADS=2 "$dir/floor")

echo "vae: Fashion-MNIST 60000 train / 10000 test, 784-400-20, batch 128, $epochs epochs;" \
     "ours with 2 worker threads (OpenBLAS 1 thread each); PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')" \
     "best set-up: ${torch_setup//_/ }"
echo "floor: $floor_gflop GFLOP of sgemm an epoch at $floor_rate GFLOP/s = $floor_s s" \
     "(OpenBLAS alone with 2 threads: $blas2_rate GFLOP/s, $blas2_s s);" \
     "ours $(awk -v a="$nn_epoch_s" -v b="$floor_s" 'BEGIN {printf "%.2f", a / b}')x the floor"
awk -v te="$torch_epoch_s" -v ne="$nn_epoch_s" -v tl="$torch_test_loss" -v nl="$nn_test_loss" \
    -v fl="$floor_s" -v ns="$nn_encode_s" -v ti="$torch_encode" -v e="$epochs" 'BEGIN {
    nn_rate = 70000 / ns
    printf "encode: ours %.0f images/s, PyTorch %.0f images/s\n", nn_rate, ti
    printf "bench: epochs=%d torch_epoch_s=%.3f nn_epoch_s=%.3f speedup=%.2f torch_test_loss=%.2f nn_test_loss=%.2f floor_epoch_s=%.3f encode_speedup=%.2f\n",
        e, te, ne, te / ne, tl, nl, fl, nn_rate / ti }'
