# Shared by the pipelines: run a stage only when its command or its inputs changed, time it,
# and keep a record of the run. Source it, set OUT (the output folder), then call
#   stage NAME OUTPUT... -- PROGRAM ARG...
# The stage is skipped when every OUTPUT exists and the key recorded for it matches: the
# command's words plus the content hash of every other word that names an existing file, alone
# or as NAME=FILE (a folder: the names, sizes and times of its files). Because every stage writes reproducible bytes, a rerun
# upstream that changes nothing downstream skips the rest.

set -euo pipefail

: "${OUT:?set OUT, the output folder}"
mkdir -p "$OUT/.stamps"
RUN_LOG="$OUT/run.log"
STAGE_TIMES=()

# stage_key N OUTPUT_1 .. OUTPUT_N WORD...: the words, and what every file or folder among them
# that is not an output holds.
stage_key() {
    local n=$1 w o
    shift
    local outputs=("${@:1:n}")
    shift "$n"
    for w in "$@"; do
        printf '%s\n' "$w"
        [[ $w == *=* && -e ${w#*=} ]] && w=${w#*=}   # NAME=FILE names a file too
        for o in "${outputs[@]}"; do [ "$w" = "$o" ] && continue 2; done
        if [ -f "$w" ]; then
            sha256sum < "$w"
        elif [ -d "$w" ]; then
            find "$w" -type f -printf '%P %s %T@\n' | LC_ALL=C sort | sha256sum
        fi
    done | sha256sum | cut -d' ' -f1
}

# stage NAME OUTPUT... -- PROGRAM ARG...: run PROGRAM ARG... unless its outputs are up to date.
stage() {
    local name=$1 outputs=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do outputs+=("$1"); shift; done
    if [ $# = 0 ]; then
        printf 'stage %s: no -- before the command\n' "$name" >&2
        return 2
    fi
    shift
    local key stamp="$OUT/.stamps/$name" o fresh=1
    key=$(stage_key "${#outputs[@]}" "${outputs[@]}" "$@")
    local cmd
    cmd=$(printf '%q ' "$@")
    for o in "${outputs[@]}"; do [ -e "$o" ] || fresh=0; done
    if [ $fresh = 1 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
        printf '%-12s unchanged, skipped  (%s)\n' "$name" "${outputs[*]}" >&2
        STAGE_TIMES+=("$name=skipped")
        return 0
    fi
    rm -f "$stamp"
    printf '%-12s %s\n' "$name" "$cmd" >&2
    local t0 t1
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    printf '%s\n' "$key" > "$stamp"
    printf '%s\t%s s\t%s\n' "$name" "$secs" "$cmd" >> "$RUN_LOG"
    printf '%-12s done in %s s\n' "$name" "$secs" >&2
    STAGE_TIMES+=("$name=${secs}s")
}

# The head of the run record: when, where, which versions, the pipeline's own command.
record_run() {
    {
        printf '# %s\n' "$*"
        printf '# date: %s\n# host: %s\n# nn: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -srm)" \
            "$(nn-cat --version 2>&1 | head -1)"
        printf '# OPENBLAS_NUM_THREADS=%s\n' "${OPENBLAS_NUM_THREADS:-}"
        printf '# stage\tseconds\tcommand\n'
    } >> "$RUN_LOG"
}

# to FILE PROGRAM ARG...: the program's standard output into FILE, whole or not at all.
to() {
    local file=$1
    shift
    "$@" > "$file.tmp" && mv "$file.tmp" "$file"
}

# explore TRAIN TEST ALL: train a VAE on TRAIN (scored on TEST), encode ALL, map it with t-SNE
# and draw everything: the map by label, the thumbnail map, the interactive page,
# reconstructions of TEST, the training curves, samples from the prior. Reads EPOCHS, LATENT,
# SEED, THREADS and the array VAE_ARGS.
explore() {
    local train=$1 test=$2 all=$3
    stage train "$OUT/model.nns" "$OUT/metrics.jsonl" -- nn-vae-train "${VAE_ARGS[@]}" --latent "$LATENT" -e "$EPOCHS" \
        --seed "$SEED" -t "$THREADS" --val "$test" -m "$OUT/metrics.jsonl" -o "$OUT/model.nns" "$train"
    stage encode "$OUT/latents.nns" -- nn-encode -m "$OUT/model.nns" -o "$OUT/latents.nns" "$all"
    stage tsne "$OUT/map.nns" -- nn-tsne --seed "$SEED" -t "$THREADS" -o "$OUT/map.nns" "$OUT/latents.nns"
    stage scatter "$OUT/map.png" -- nn-render scatter --title "t-SNE of the VAE's latent space" \
        -o "$OUT/map.png" "$OUT/map.nns"
    stage thumbs "$OUT/thumbs.png" -- nn-render thumbs --title "t-SNE map, one image a cell" \
        -o "$OUT/thumbs.png" "$OUT/map.nns" "$all"
    stage html "$OUT/map.html" -- nn-render html --title "neuro-noodle: t-SNE of the latent space" \
        -o "$OUT/map.html" "$OUT/map.nns" "$all"
    stage originals "$OUT/originals.nns" -- nn-cat --head 12 -o "$OUT/originals.nns" "$test"
    stage reencode "$OUT/zoriginals.nns" -- nn-encode -m "$OUT/model.nns" -o "$OUT/zoriginals.nns" "$OUT/originals.nns"
    stage decode "$OUT/recon.nns" -- nn-decode -m "$OUT/model.nns" -o "$OUT/recon.nns" "$OUT/zoriginals.nns"
    stage recon "$OUT/recon.png" -- nn-render grid --title "Test images (top) and their reconstructions" \
        -o "$OUT/recon.png" "$OUT/originals.nns" "$OUT/recon.nns"
    stage curves "$OUT/curves.png" -- nn-render curves --title "Training" -o "$OUT/curves.png" "$OUT/metrics.jsonl"
    stage prior "$OUT/prior.nns" -- nn-decode -m "$OUT/model.nns" --sample 64 --seed "$SEED" -o "$OUT/prior.nns"
    stage samples "$OUT/samples.png" -- nn-render grid -c 8 -n 64 --caption none \
        --title "Samples from the prior" -o "$OUT/samples.png" "$OUT/prior.nns"
}

# Where each output is.
list_outputs() {
    local f
    for f in "$@"; do printf '  %-14s %s\n' "$(basename "$f")" "$f"; done >&2
}

stage_summary() {
    printf 'stage times: %s\n' "${STAGE_TIMES[*]}" >&2
}
