#!/usr/bin/env bash
# nn-ingest speed: Fashion-MNIST IDX (70,000 images) to a stream, and a folder of PNG faces
# decoded, centre-cropped and area-resized to 64x64, against Python/PIL doing the same and
# against bare libpng decoding (the floor). Median of RUNS; single-threaded throughout.
# Needs dataset-fashion-mnist and python3-pil (Debian). Run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
copies=${COPIES:-10}
make -s all
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cc -O2 -o "$dir/png_decode" bench/png_decode.c $(pkg-config --cflags --libs libpng)

# The PNG folder: the Yale photos copied COPIES times, or synthetic faces when absent.
mkdir "$dir/png"
yale=../shared/data/yalefaces
if [ -d "$yale" ]; then
    for ((c = 0; c < copies; c++)); do
        for f in "$yale"/*.png; do cp "$f" "$dir/png/c$c.$(basename "$f")"; done
    done
else
    /usr/bin/python3 - "$dir/png" "$copies" <<'PY'
import sys, numpy as np
from PIL import Image
rng = np.random.default_rng(0)
y, x = np.mgrid[0:243, 0:320]
for i in range(109 * int(sys.argv[2])):
    face = 128 + 60 * np.sin(x / (7 + i % 5)) * np.cos(y / 9) + rng.normal(0, 8, x.shape)
    Image.fromarray(np.clip(face, 0, 255).astype(np.uint8)).save(f"{sys.argv[1]}/f{i:05d}.png")
PY
fi
pngs=("$dir"/png/*.png)
png_n=${#pngs[@]}

cat > "$dir/peer.py" <<'PY'
import sys, os, numpy as np
from PIL import Image
folder = sys.argv[1]
out = []
for name in sorted(os.listdir(folder)):
    im = Image.open(os.path.join(folder, name)).convert('L')
    s = min(im.size)
    left, top = (im.size[0] - s) // 2, (im.size[1] - s) // 2
    im = im.crop((left, top, left + s, top + s)).resize((64, 64), Image.BOX)
    out.append(np.asarray(im, dtype=np.float32) / 255)
np.save(sys.argv[2], np.stack(out))
PY

t() { local t0=$EPOCHREALTIME; "$@" > /dev/null; awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}'; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

: > "$dir/idx"; : > "$dir/ours"; : > "$dir/floor"; : > "$dir/peer"
for ((i = 0; i < runs; i++)); do
    t bin/nn-ingest /usr/share/datasets/fashion-mnist -o "$dir/fm.nns" >> "$dir/idx"
    t bin/nn-ingest "$dir/png" --crop center --size 64x64 -o "$dir/png.nns" >> "$dir/ours"
    t "$dir/png_decode" "${pngs[@]}" >> "$dir/floor"
    t /usr/bin/python3 "$dir/peer.py" "$dir/png" "$dir/peer.npy" >> "$dir/peer"
done
idx_s=$(median < "$dir/idx")
png_s=$(median < "$dir/ours")
floor_s=$(median < "$dir/floor")
peer_s=$(median < "$dir/peer")
records=$(bin/nn-cat --info "$dir/fm.nns" | sed -n 's/^records: *//p')
# The two outputs agree: mean absolute difference between ours and PIL's.
diff=$(bin/nn-cat --to npy "$dir/ours.npy" "$dir/png.nns" && /usr/bin/python3 -c "
import numpy as np, sys
a = np.load('$dir/ours.npy')[..., 0]; b = np.load('$dir/peer.npy')
print(f'{np.abs(a - b).mean():.5f}')")
echo "ingest: IDX $records images; PNG $png_n files ($([ -d "$yale" ] && echo "Yale x$copies" || echo synthetic)), crop center, 64x64 area;" \
     "median of $runs runs; one thread each (OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}, unused)"
echo "peer: Python $(/usr/bin/python3 -c 'import PIL, sys; print(sys.version.split()[0], "PIL", PIL.__version__)'), BOX resize, whole command incl. start-up;" \
     "mean |ours - peer| = $diff"
awk -v idx="$idx_s" -v n="$png_n" -v png="$png_s" -v fl="$floor_s" -v peer="$peer_s" 'BEGIN {
    printf "bench: idx70k_s=%.3f png_n=%d png_s=%.3f png_floor_s=%.3f png_over_floor=%.2f peer_s=%.3f peer_speedup=%.1f\n",
        idx, n, png, fl, png / fl, peer, peer / png }'
