#!/usr/bin/env bash
# The faces job: a folder of faces in (named like the Yale set, subject01.happy.png, or any
# pattern), split by person, a VAE trained on the training persons, every face encoded and
# mapped with t-SNE, the pictures drawn; then the emotion transfer on the held-out persons
# (pipelines/emotion-transfer.sh) with its score table.
#   pipelines/faces.sh [OPTION]... DIR
# A rerun skips every stage whose inputs and options did not change.
set -euo pipefail
usage() {
    sed -n '2,7s/^# \{0,1\}//p' "$0"
    cat <<'EOF2'
Options:
  --out DIR            output folder (default out/faces)
  --pattern ERE        file names: group 1 the person, group 2 the label
                       (default '^(subject[0-9]+)\.([a-z]+)\.(png|gif|jpe?g)$')
  --size WxH           image size (default 64x64)
  --epochs N           VAE epochs (default 300)
  --latent N           latent size (default 16)
  --seed N             seed of the split, training and t-SNE (default 1)
  --threads N          threads (default 1)
EOF2
}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PATH="$ROOT/bin:$PATH"
OUT=out/faces PATTERN='^(subject[0-9]+)\.([a-z]+)\.(png|gif|jpe?g)$' SIZE=64x64 EPOCHS=300 LATENT=16
SEED=1 THREADS=1
while [ $# -gt 0 ]; do
    case $1 in
    --out) OUT=$2; shift 2 ;;
    --pattern) PATTERN=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --latent) LATENT=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "faces.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "faces.sh: give one folder of faces" >&2; usage >&2; exit 2; }
DIR=$1
[ -d "$DIR" ] || { echo "faces.sh: $DIR: not a folder" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
. "$ROOT/pipelines/lib.sh"
record_run "faces.sh --out $OUT --pattern $PATTERN --size $SIZE --epochs $EPOCHS --latent $LATENT --seed $SEED --threads $THREADS $DIR"
T0=$(date +%s)

stage ingest "$OUT/faces.nns" -- nn-ingest "$DIR" --crop center --size "$SIZE" --pattern "$PATTERN" \
    --group-capture 1 --label-capture 2 -o "$OUT/faces.nns"
stage split "$OUT/train.nns" "$OUT/test.nns" -- nn-split --by group --ratios 0.8,0,0.2 --seed "$SEED" \
    --train "$OUT/train.nns" --test "$OUT/test.nns" "$OUT/faces.nns"
VAE_ARGS=(--hidden 512 --likelihood gaussian --sigma 0.1 -b 32)
explore "$OUT/train.nns" "$OUT/test.nns" "$OUT/faces.nns"
stage_summary
"$ROOT/pipelines/emotion-transfer.sh" --out "$OUT/emotion" --pattern "$PATTERN" --size "$SIZE" \
    --seed "$SEED" --latent "$LATENT" --epochs "$EPOCHS" --threads "$THREADS" "$DIR"
echo "finished in $(( $(date +%s) - T0 )) s; outputs:" >&2
list_outputs "$OUT/map.png" "$OUT/thumbs.png" "$OUT/map.html" "$OUT/recon.png" "$OUT/curves.png" \
    "$OUT/samples.png" "$OUT/emotion/transfer.png" "$OUT/emotion/traversal.png" \
    "$OUT/emotion/score.txt" "$OUT/run.log"
