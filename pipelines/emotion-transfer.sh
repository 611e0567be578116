#!/usr/bin/env bash
# Emotion transfer on a folder of faces named like the Yale set (subject01.happy.png): split by
# person, align the faces, train a VAE, encode, build emotion vectors, edit every held-out
# neutral face (plain and residual modes in the latent space; the same arithmetic on the
# pixels; and the transfer of the training persons' changes, each moved onto the face pixel by
# pixel), score against the real photos, and draw the pictures.
#   pipelines/emotion-transfer.sh [OPTION]... DIR
# Outputs go to --out (default out/emotion): score.txt, score.json, transfer.png, traversal.png,
# every stage's stream, and run.log. A rerun skips the stages whose inputs and options did not
# change.
set -euo pipefail
usage() {
    sed -n '2,8s/^# \{0,1\}//p' "$0"
    cat <<'EOF'
Options:
  --out DIR            output folder (default out/emotion)
  --pattern ERE        file names: group 1 the person, group 2 the emotion
                       (default '^(subject[0-9]+)\.([a-z]+)\.(png|gif|jpe?g)$')
                       one photo per person and emotion
  --base LABEL         the neutral label (default normal)
  --emotions L,L,...   target emotions (default happy,sad,sleepy,surprised,wink)
  --size WxH           image size (default 64x64)
  --seed N             seed of the split and the training (default 1)
  --test-share F       share of persons held out (default 0.2)
  --model vae|pca      the latent model (default vae)
  --latent N           latent size (default 16)
  --epochs N           VAE epochs (default 300)
  --strength S         the latent edits' strength (default 0.25; the pixel edit and the
                       transfer pick their own per emotion, leaving each training person out
                       in turn)
  --radius R,W         the transfer's shift per pixel, at most R, matched in a W x W window
                       (default 2,9; nn-edit transfer)
  --align W,A          nn-align: shifts within a person, across persons (default 4,8; 0,0: off)
  --no-shrink          offsets are plain paired means (default: shrunk, nn-edit vectors --shrink)
  --threads N          training threads (default 1: byte-identical reruns)
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PATH="$ROOT/bin:$PATH"
OUT=out/emotion PATTERN='^(subject[0-9]+)\.([a-z]+)\.(png|gif|jpe?g)$' BASE=normal
EMOTIONS=happy,sad,sleepy,surprised,wink SIZE=64x64 SEED=1 SHARE=0.2 MODEL=vae LATENT=16
EPOCHS=300 STRENGTH=0.25 THREADS=1 ALIGN=4,8 SHRINK=--shrink RADIUS=2,9
while [ $# -gt 0 ]; do
    case $1 in
    --out) OUT=$2; shift 2 ;;
    --pattern) PATTERN=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --emotions) EMOTIONS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --test-share) SHARE=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --latent) LATENT=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --strength) STRENGTH=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --align) ALIGN=$2; shift 2 ;;
    --radius) RADIUS=$2; shift 2 ;;
    --no-shrink) SHRINK=; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "emotion-transfer.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "emotion-transfer.sh: give one folder of faces" >&2; usage >&2; exit 2; }
DIR=$1
[ -d "$DIR" ] || { echo "emotion-transfer.sh: $DIR: not a folder" >&2; exit 1; }
case $MODEL in vae|pca) ;; *) echo "emotion-transfer.sh: --model: '$MODEL' is not vae or pca" >&2; exit 2 ;; esac
[[ $RADIUS =~ ^[0-9]+,[0-9]*[13579]$ ]] ||
    { echo "emotion-transfer.sh: --radius: '$RADIUS' is not R,W (W odd), such as 2,9" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1
. "$ROOT/pipelines/lib.sh"

CV_STRENGTHS=(0 0.25 0.5 0.75 1)

# quiet CMD...: CMD with its standard output dropped (its files are what is wanted).
quiet() {
    "$@" > /dev/null
}

# choose_strengths OUT TRAIN EMOTIONS EDIT_OPTION...: for each of EMOTIONS, the strength of
# CV_STRENGTHS whose edit (nn-edit transfer -e TRAIN EDIT_OPTION...) has the best mean
# registered SSIM over the training persons, each edited with the changes of the others (leave
# one person out); ties go to the smaller strength. Emotions the others do not predict get 0:
# the face is left as it is. Every setting is an argument, so that it is in the stage's key.
choose_strengths() {
    local out=$1 train=$2 emotions=$3 t s mine
    local dir=$out.cv
    shift 3
    rm -rf "$dir"
    mkdir -p "$dir"
    local groups
    groups=$(nn-cat --json "$train" | sed 's/.*"group":"\([^"]*\)".*/\1/' | LC_ALL=C sort -u)
    : > "$dir/scores"
    for t in $groups; do
        nn-cat --filter "group=$t" -o "$dir/one.nns" "$train"
        # the emotions this person has a photo of: the others cannot be scored
        mine=$(nn-cat --json "$dir/one.nns" | sed 's/.*"label":"\([^"]*\)".*/\1/' |
               grep -Fx -f <(tr , '\n' <<<"$emotions") | paste -sd, -) || true
        [ -n "$mine" ] || continue
        for s in "${CV_STRENGTHS[@]}"; do
            # the person's own photos are never among the examples (nn-edit transfer skips them)
            nn-edit transfer -e "$train" "$@" --target "$mine" -s "$s" -o "$dir/edit.nns" "$dir/one.nns" || return 1
            nn-score --real "$dir/one.nns" --base "$BASE" "cv=$dir/edit.nns" 2>/dev/null |
                awk -v s="$s" '$1 == "cv" && $2 != "all" { print $2, s, $NF }' >> "$dir/scores" || true
        done
    done
    # the mean per emotion and strength, then the best strength per emotion
    awk '{ sum[$1 " " $2] += $3; n[$1 " " $2]++ }
         END { for (k in sum) { split(k, a, " "); m = sum[k] / n[k]
                 if (!(a[1] in best) || m > best[a[1]] + 1e-12 || (m > best[a[1]] - 1e-12 && a[2] + 0 < bs[a[1]] + 0)) { best[a[1]] = m; bs[a[1]] = a[2] } }
               for (e in best) printf "%s\t%s\t%.4f\n", e, bs[e], best[e] }' "$dir/scores" |
        LC_ALL=C sort > "$out.tmp"
    [ -s "$out.tmp" ] || { echo "emotion-transfer.sh: no training person could be scored for the strengths" >&2; return 1; }
    mv "$out.tmp" "$out"
    rm -rf "$dir"
}

# chosen_edits OUT STRENGTHS TRAIN TEST EDIT_OPTION...: each emotion's edit at its own strength,
# in one stream.
chosen_edits() {
    local out=$1 strengths=$2 train=$3 test=$4 e s parts=()
    shift 4
    while IFS=$'\t' read -r e s _; do
        nn-edit transfer -e "$train" "$@" --target "$e" -s "$s" -o "$out.$e" "$test"
        parts+=("$out.$e")
    done < "$strengths"
    nn-cat -o "$out" "${parts[@]}"
    rm -f "${parts[@]}"
}

record_run "emotion-transfer.sh --out $OUT --pattern $PATTERN --base $BASE --emotions $EMOTIONS --size $SIZE --seed $SEED --test-share $SHARE --model $MODEL --latent $LATENT --epochs $EPOCHS --strength $STRENGTH --threads $THREADS --align $ALIGN --radius $RADIUS ${SHRINK:---no-shrink} $DIR"

stage ingest "$OUT/faces.nns" -- nn-ingest "$DIR" --crop center --size "$SIZE" --pattern "$PATTERN" \
    --group-capture 1 --label-capture 2 -o "$OUT/faces.nns"
stage split "$OUT/train.nns" "$OUT/test.nns" -- nn-split --by group --ratios "$(awk -v s="$SHARE" 'BEGIN { print 1 - s ",0," s }')" \
    --seed "$SEED" --train "$OUT/train.nns" --test "$OUT/test.nns" "$OUT/faces.nns"
# Aligned faces: the test persons join the training persons' frame (the reference face).
stage align-train "$OUT/train-aligned.nns" "$OUT/reference.nns" -- nn-align --within "${ALIGN%,*}" \
    --across "${ALIGN#*,}" --base "$BASE" --save-reference "$OUT/reference.nns" \
    -o "$OUT/train-aligned.nns" "$OUT/train.nns"
stage align-test "$OUT/test-aligned.nns" -- nn-align --within "${ALIGN%,*}" --across "${ALIGN#*,}" \
    --base "$BASE" --reference "$OUT/reference.nns" -o "$OUT/test-aligned.nns" "$OUT/test.nns"
TRAIN=$OUT/train-aligned.nns TEST=$OUT/test-aligned.nns
if [ "$MODEL" = vae ]; then
    stage train "$OUT/model.nns" "$OUT/metrics.jsonl" -- nn-vae-train --hidden 512 --latent "$LATENT" \
        --likelihood gaussian --sigma 0.1 -e "$EPOCHS" -b 32 --seed "$SEED" -t "$THREADS" \
        -m "$OUT/metrics.jsonl" -o "$OUT/model.nns" "$TRAIN"
else
    stage train "$OUT/model.nns" -- nn-pca -k "$LATENT" -o "$OUT/model.nns" "$TRAIN"
fi
stage encode "$OUT/ztrain.nns" -- nn-encode -m "$OUT/model.nns" -o "$OUT/ztrain.nns" "$TRAIN"
stage vectors "$OUT/vectors.nns" -- nn-edit vectors $SHRINK --base "$BASE" -o "$OUT/vectors.nns" "$OUT/ztrain.nns"
for mode in plain residual; do
    stage "$mode" "$OUT/$mode.nns" -- nn-edit apply -v "$OUT/vectors.nns" -m "$OUT/model.nns" --mode "$mode" \
        --target "$EMOTIONS" -s "$STRENGTH" -o "$OUT/$mode.nns" "$TEST"
done
# The same arithmetic on the pixels (radius 0), and the transfer (each training person's change
# moved onto the face pixel by pixel first), each emotion at the strength that did best on the
# training persons, each predicted from the others.
PIXEL=(-r 0 $SHRINK --base "$BASE")
MOVED=(-r "${RADIUS%,*}" -w "${RADIUS#*,}" $SHRINK --base "$BASE")
stage strengths-pixel "$OUT/strengths-pixel.tsv" -- choose_strengths "$OUT/strengths-pixel.tsv" \
    "$TRAIN" "$EMOTIONS" "${PIXEL[@]}"
stage pixel "$OUT/pixel.nns" -- chosen_edits "$OUT/pixel.nns" "$OUT/strengths-pixel.tsv" "$TRAIN" "$TEST" \
    "${PIXEL[@]}"
stage strengths-transfer "$OUT/strengths-transfer.tsv" -- choose_strengths "$OUT/strengths-transfer.tsv" \
    "$TRAIN" "$EMOTIONS" "${MOVED[@]}"
stage transfer "$OUT/transfer.nns" -- chosen_edits "$OUT/transfer.nns" "$OUT/strengths-transfer.tsv" \
    "$TRAIN" "$TEST" "${MOVED[@]}"
PREDS=("plain=$OUT/plain.nns" "residual=$OUT/residual.nns" "pixel=$OUT/pixel.nns" "transfer=$OUT/transfer.nns")
stage score "$OUT/score.txt" -- to "$OUT/score.txt" nn-score --real "$TEST" --train "$TRAIN" \
    --base "$BASE" "${PREDS[@]}"
stage score-json "$OUT/score.json" -- to "$OUT/score.json" nn-score --json --real "$TEST" --train "$TRAIN" \
    --base "$BASE" "${PREDS[@]}"
stage panel "$OUT/panel.nns" -- quiet nn-score --real "$TEST" --base "$BASE" --panel "$OUT/panel.nns" \
    "plain=$OUT/plain.nns" "residual=$OUT/residual.nns" "transfer=$OUT/transfer.nns"
NEMO=$(awk -F, '{ print NF }' <<<"$EMOTIONS")
stage picture "$OUT/transfer.png" -- nn-render grid -c $((1 + 4 * NEMO)) -n 100000 --caption label \
    -t "Held-out persons: $BASE, then per emotion the real photo, the plain and residual edits and the transfer" \
    -o "$OUT/transfer.png" "$OUT/panel.nns"
stage traverse "$OUT/traversal.nns" -- nn-edit apply -v "$OUT/vectors.nns" -m "$OUT/model.nns" --mode residual \
    --target "$EMOTIONS" --steps 7 -o "$OUT/traversal.nns" "$TEST"
stage strips "$OUT/traversal.png" -- nn-render grid -c 7 -n 100000 --caption id \
    -t "Residual traversals, strength 0 to 1.5" -o "$OUT/traversal.png" "$OUT/traversal.nns"

cat "$OUT/score.txt"
stage_summary
echo "outputs: $OUT/score.txt $OUT/score.json $OUT/transfer.png $OUT/traversal.png (run record: $OUT/run.log)" >&2
