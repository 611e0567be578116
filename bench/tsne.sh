#!/usr/bin/env bash
# nn-tsne against scikit-learn's TSNE (Barnes-Hut) on Fashion-MNIST reduced to 50 dimensions by
# nn-pca: N = 10,000 both, N = 70,000 ours only (sklearn too with SKLEARN70K=1). Perplexity 30,
# 1000 iterations, PCA init. Wall seconds, peak memory (GNU time), final KL, 10-NN accuracy
# (fraction of each point's 10 nearest map neighbours with its label) and trustworthiness on a
# sample of 2000. Needs dataset-fashion-mnist, python3-sklearn, time. Run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
make -s all
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bin/nn-ingest /usr/share/datasets/fashion-mnist -o "$dir/all.nns" \
    --label-names 'T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot' 2>/dev/null
bin/nn-pca -q "$dir/all.nns" -k 50 -o "$dir/pca.nns"
bin/nn-encode -m "$dir/pca.nns" "$dir/all.nns" -o "$dir/x70k.nns"
bin/nn-cat --head 10000 "$dir/x70k.nns" > "$dir/x10k.nns"

measure() {   # measure NAME CMD...: wall seconds and peak KB into $dir/NAME.time
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$dir/$name.time" "$@"
}
score() {     # score MAP.nns: knn and trustworthiness
    bin/nn-cat --to npy "$dir/s.npy" "$1"
    /usr/bin/python3 bench/tsne_peer.py score "$dir/s.npy" "$dir/s.tsv" "$dir/x.npy"
}
row() { printf '%-22s %8s %10s %8s %7s %7s\n' "$@"; }

row run seconds peak_MB KL knn10 trust
for n in 10k 70k; do
    bin/nn-cat --to npy "$dir/x.npy" "$dir/x$n.nns"
    measure nn$n bin/nn-tsne "$dir/x$n.nns" --threads "$threads" -o "$dir/map$n.nns"
    read -r s kb < "$dir/nn$n.time"
    kl=$(bin/nn-cat --info "$dir/map$n.nns" | grep -o '"kl":[0-9.]*' | cut -d: -f2)
    method=$(bin/nn-cat --info "$dir/map$n.nns" | grep -o '"method":"[a-z]*"' | cut -d'"' -f4)
    read -r knn trust < <(score "$dir/map$n.nns" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["knn"], d["trust"])')
    row "nn-tsne $n ($method)" "$s" "$((kb / 1024))" "$(printf %.3f "$kl")" "$(printf %.3f "$knn")" "$(printf %.3f "$trust")"
    eval "nn_s_$n=$s knn_nn_$n=$knn"
    if [ "$n" = 10k ] || [ "${SKLEARN70K:-0}" = 1 ]; then
        measure sk$n /usr/bin/python3 bench/tsne_peer.py fit "$dir/x.npy" "$dir/sk.npy" "$threads" > "$dir/sk.json"
        read -r s kb < "$dir/sk$n.time"
        kl=$(/usr/bin/python3 -c "import json; print(json.load(open('$dir/sk.json'))['kl'])")
        read -r knn trust < <(/usr/bin/python3 bench/tsne_peer.py score "$dir/sk.npy" "$dir/s.tsv" "$dir/x.npy" |
                              /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["knn"], d["trust"])')
        row "sklearn $n (bh)" "$s" "$((kb / 1024))" "$(printf %.3f "$kl")" "$(printf %.3f "$knn")" "$(printf %.3f "$trust")"
        eval "sk_s_$n=$s knn_sk_$n=$knn"
    fi
done
echo "threads: nn-tsne $threads; sklearn n_jobs=$threads (OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset})"
awk -v a="$nn_s_10k" -v b="$sk_s_10k" -v c="$nn_s_70k" -v k="$knn_nn_10k" -v ks="$knn_sk_10k" 'BEGIN {
    printf "bench: n10k_nn_s=%.2f n10k_sklearn_s=%.2f speedup10k=%.1f n70k_nn_s=%.2f knn_nn=%.3f knn_sklearn=%.3f\n", a, b, b / a, c, k, ks }'
