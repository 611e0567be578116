#!/usr/bin/env bats
# nn-render: the dispatcher, grid and curves (scatter, thumbs and html have files of their own).

load helper

png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 "x" $5 * 16777216 + $6 * 65536 + $7 * 256 + $8}'; }
is_png() { [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = "89504e470d0a1a0a" ]; }

@test "nn-render: --help lists the commands; an unknown command exits 2" {
    run nn-render --help
    assert_success
    assert_line --index 0 "usage: nn-render COMMAND [OPTION]... [FILE]..."
    assert_output --partial "grid "
    run nn-render
    assert_failure 2
    run nn-render paint
    assert_failure 2
    assert_line --index 0 "nn-render: unknown command 'paint'"
}

@test "grid: one stream in rows of --cols, several streams one row each, exact sizes" {
    nn-mkstream -n 12 --shape 8x8x1 --dtype u8 > a.nns
    nn-render grid a.nns --cols 4 --scale 4 --caption none -o g.png
    is_png g.png
    # 4 columns of 8*4 + 6 padding, + 6; 3 rows of 32 + 6, + 6
    [ "$(png_size g.png)" = "158x120" ]
    nn-render grid a.nns a.nns --head 5 --scale 2 -o two.png
    # 5 columns of 16 + 6, + 6; 2 rows of 16 + 14 (caption) + 6, + 6
    [ "$(png_size two.png)" = "116x78" ]
    nn-render grid a.nns --cols 4 --scale 4 --caption none -o again.png
    cmp g.png again.png
}

@test "grid: the pixels are the images, enlarged without blur" {
    py=/usr/bin/python3
    $py -c 'import PIL' 2>/dev/null || skip "no python3-pil"
    nn-mkimage png im.png 2x2 gray 8 0,255,128,64
    nn-ingest im.png -o im.nns
    nn-render grid im.nns --scale 3 --caption none -o g.png
    run $py -c "
from PIL import Image
im = Image.open('g.png').convert('L')
print([im.getpixel((6 + x, 6 + y)) for y in (0, 2, 3, 5) for x in (0, 2, 3, 5)])"
    assert_output "[0, 0, 255, 255, 0, 0, 255, 255, 128, 128, 64, 64, 128, 128, 64, 64]"
}

@test "grid: bad input exits 1 naming the file and leaves no PNG" {
    nn-mkstream -n 3 --shape 5 > v.nns
    run nn-render grid v.nns -o g.png
    assert_failure 1
    assert_output "nn-render: v.nns: header: records are 5, not images (HxW, HxWx1 or HxWx3)"
    [ ! -e g.png ]
    nn-mkstream -n 0 --shape 4x4 > e.nns
    run nn-render grid e.nns -o g.png
    assert_failure 1
    assert_output "nn-render: e.nns: no records to draw"
    run nn-render grid --caption colour a.nns
    assert_failure 2
}

@test "curves: the metrics log of a real run draws; a log without epochs is an error" {
    nn-mkimage idx d-images-idx3-ubyte d-labels-idx1-ubyte 100 8x8
    nn-ingest d-images-idx3-ubyte -o d.nns 2>/dev/null
    nn-vae-train d.nns --val d.nns -o m.nns -m log.jsonl --epochs 3 --hidden 8 --latent 2
    nn-render curves log.jsonl -o c.png
    is_png c.png
    [ "$(png_size c.png)" = "1200x420" ]
    head -1 log.jsonl > first.jsonl
    run nn-render curves first.jsonl -o c2.png
    assert_failure 1
    assert_output "nn-render: first.jsonl: no epoch lines (is it nn-vae-train's --metrics log?)"
    [ ! -e c2.png ]
}
