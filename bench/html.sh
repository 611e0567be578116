#!/usr/bin/env bash
# How smooth nn-render html's page is at 70,000 points in a real Chromium: Fashion-MNIST's
# 70,000 images mapped to 2-D by nn-pca (a t-SNE map draws the same way; only the number of
# points matters), 20,000 thumbnails embedded. Prints the page's size, the time to load and
# first draw, the cost of one full redraw of every point, and the frame intervals while the
# wheel zooms and the mouse drags (60 Hz: 16.7 ms). Needs dataset-fashion-mnist (else 70,000
# synthetic clustered points), chromium and tests/browser/node_modules (npm ci there).
# SIZE=WxH sets the window (default 1200x800).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s all tests/bin/nn-mkstream
[ -d tests/browser/node_modules/playwright-core ] || { echo "run: (cd tests/browser && npm ci)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if [ -d /usr/share/datasets/fashion-mnist ]; then
    bin/nn-ingest /usr/share/datasets/fashion-mnist -o "$dir/all.nns" \
        --label-names 'T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot' 2>/dev/null
    bin/nn-pca -q -k 2 "$dir/all.nns" -o "$dir/pca.nns"
    bin/nn-encode -m "$dir/pca.nns" "$dir/all.nns" -o "$dir/points.nns"
    bin/nn-render html "$dir/points.nns" "$dir/all.nns" -o "$dir/page.html"
else
    tests/bin/nn-mkstream -n 70000 --shape 2 --values clusters --clusters 10 > "$dir/points.nns"
    bin/nn-render html "$dir/points.nns" -o "$dir/page.html"
fi
echo "page: $(( $(stat -c %s "$dir/page.html") / 1024 )) KiB"
node tests/browser/bench-page.js "$dir/page.html" "${SIZE:-1200x800}"
