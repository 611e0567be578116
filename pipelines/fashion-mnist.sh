#!/usr/bin/env bash
# The main job on the embedded default: Fashion-MNIST (Debian's dataset-fashion-mnist). Ingests
# all 70,000 images, keeps the dataset's own split (60,000 train, 10,000 test), trains the VAE,
# encodes every image, maps the latents with t-SNE and draws the map by label, the thumbnail
# map, the interactive page, reconstructions, training curves and samples from the prior.
#   pipelines/fashion-mnist.sh [OPTION]...
# A rerun skips every stage whose inputs and options did not change; the commands are printed
# as they run and recorded in OUT/run.log.
set -euo pipefail
usage() {
    sed -n '2,8s/^# \{0,1\}//p' "$0"
    cat <<'EOF2'
Options:
  --out DIR          output folder (default out/fashion-mnist)
  --data DIR         the IDX files (default /usr/share/datasets/fashion-mnist)
  --limit N          use the first N images of each split only (a quick run)
  --epochs N         VAE epochs (default 10)
  --latent N         latent size (default 20)
  --seed N           seed of training and t-SNE (default 1)
  --threads N        threads of training and t-SNE (default 2; same N, same bytes)
EOF2
}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PATH="$ROOT/bin:$PATH"
OUT=out/fashion-mnist DATA=/usr/share/datasets/fashion-mnist LIMIT= EPOCHS=10 LATENT=20 SEED=1 THREADS=2
while [ $# -gt 0 ]; do
    case $1 in
    --out) OUT=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --limit) LIMIT=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --latent) LATENT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fashion-mnist.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
[ -e "$DATA/train-images-idx3-ubyte.gz" ] || [ -e "$DATA/train-images-idx3-ubyte" ] || {
    echo "fashion-mnist.sh: $DATA: no Fashion-MNIST IDX files (install dataset-fashion-mnist: make deps)" >&2
    exit 1
}
export OPENBLAS_NUM_THREADS=1
. "$ROOT/pipelines/lib.sh"
record_run "fashion-mnist.sh --out $OUT --data $DATA --limit ${LIMIT:-all} --epochs $EPOCHS --latent $LATENT --seed $SEED --threads $THREADS"
T0=$(date +%s)

HEAD=()
[ -n "$LIMIT" ] && HEAD=(--head "$LIMIT")
stage ingest "$OUT/fashion.nns" -- nn-ingest "$DATA" -o "$OUT/fashion.nns" \
    --label-names 'T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot'
stage split-train "$OUT/train.nns" -- nn-cat --filter group=train "${HEAD[@]}" -o "$OUT/train.nns" "$OUT/fashion.nns"
stage split-test "$OUT/test.nns" -- nn-cat --filter group=t10k "${HEAD[@]}" -o "$OUT/test.nns" "$OUT/fashion.nns"
stage all "$OUT/all.nns" -- nn-cat -o "$OUT/all.nns" "$OUT/train.nns" "$OUT/test.nns"
VAE_ARGS=(--hidden 400)
explore "$OUT/train.nns" "$OUT/test.nns" "$OUT/all.nns"

stage_summary
echo "finished in $(( $(date +%s) - T0 )) s; outputs:" >&2
list_outputs "$OUT/map.png" "$OUT/thumbs.png" "$OUT/map.html" "$OUT/recon.png" "$OUT/curves.png" \
    "$OUT/samples.png" "$OUT/run.log"
