#!/usr/bin/env bats
# nn-render projector: the folder for TensorFlow's Embedding Projector: exact TSVs, the
# config as JSON, the sprite's size and pixels, the size cap, replacing an export whole, bad
# input.

load helper

# The PNG's width, height, bit depth and colour type, from its IHDR.
png_head() { od -An -tu1 -j16 -N10 "$1" | awk '{ print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8, $9, $10 }'; }

@test "projector: --help, and bad usage exits 2 and writes nothing" {
    run --separate-stderr nn-render projector --help
    assert_success
    assert_line --index 0 "usage: nn-render projector [OPTION]... -o DIR VECTORS [IMAGES]"
    assert_output --partial "--sprite-max PX"
    run nn-render --help
    assert_output --partial "projector"
    run nn-render projector v.nns
    assert_failure 2
    assert_line --index 0 "nn-render: no output folder given (-o DIR)"
    run nn-render projector -o - v.nns
    assert_failure 2
    assert_line --index 0 "nn-render: -o: '-' is not a folder's name"
    run nn-render projector -o out
    assert_failure 2
    assert_line --index 0 "nn-render: no VECTORS given"
    run nn-render projector -o out a b c
    assert_failure 2
    run nn-render projector -o out - -
    assert_failure 2
    assert_line --index 0 "nn-render: standard input (-) can be read only once"
    run nn-render projector -o out --thumb 0 v.nns
    assert_failure 2
    # (bats' run --separate-stderr leaves its own file here)
    [ -z "$(ls -A | grep -v '^separate-stderr-')" ]
}

@test "projector: tensors.tsv, metadata.tsv and the config, exactly" {
    nn-mkstream -n 3 --shape 2 --values index --labels 'cat,dog' --groups 'p1' > v.nns
    nn-render projector -o out v.nns
    [ "$(ls out | tr '\n' ' ')" = "metadata.tsv projector_config.json tensors.tsv " ]
    # value j of record i is i + j/1000 as float32, printed with 9 significant digits
    printf '0\t0.00100000005\n1\t1.00100005\n2\t2.00099993\n' > want.tsv
    cmp want.tsv out/tensors.tsv
    printf 'id\tlabel\tgroup\nr0000\tcat\tp1\nr0001\tdog\tp1\nr0002\tcat\tp1\n' > want.tsv
    cmp want.tsv out/metadata.tsv
    cat > want.json <<'EOF'
{
  "embeddings": [
    {
      "tensorName": "v.nns",
      "tensorShape": [3, 2],
      "tensorPath": "tensors.tsv",
      "metadataPath": "metadata.tsv"
    }
  ]
}
EOF
    cmp want.json out/projector_config.json
    # u8 vectors as their integers; a tab or line end in a name becomes a space
    nn-mkstream -n 2 --shape 3 --dtype u8 --labels 'a	b,c' | nn-render projector -o u8 --name 'x"y' -
    printf '0\t1\t2\n1\t2\t3\n' > want.tsv
    cmp want.tsv u8/tensors.tsv
    printf 'id\tlabel\tgroup\nr0000\ta b\tg\nr0001\tc\tg\n' > want.tsv
    cmp want.tsv u8/metadata.tsv
    grep -qF '"tensorName": "x\"y",' u8/projector_config.json
}

@test "projector: the TSV's values read back as the same float32" {
    py=$(python_with_msgpack) || skip "no python3 with numpy"
    nn-mkstream -n 50 --shape 7 --values random --seed 3 > v.nns
    nn-cat --to npy v.npy v.nns
    nn-render projector -o out v.nns
    run "$py" -c '
import numpy as np
want = np.load("v.npy")
got = np.loadtxt("out/tensors.tsv", delimiter="\t", dtype=np.float64).astype(np.float32)
assert got.shape == want.shape == (50, 7), (got.shape, want.shape)
assert (got.view(np.uint32) == want.view(np.uint32)).all()
print("bit for bit")'
    assert_success
    assert_output "bit for bit"
}

@test "projector: the sprite holds each vector's image in record order; the config parses" {
    command -v python3 >/dev/null || skip "no python3"
    # vectors: the 5 records labelled b of 10; images: all 10, in their own order
    nn-mkstream -n 10 --shape 4 --values random > all.nns
    nn-cat --filter label=b all.nns > v.nns
    nn-mkstream -n 10 --shape 6x6x1 --dtype u8 --values random --seed 7 > i.nns
    nn-render projector -o out v.nns i.nns
    [ "$(ls out | tr '\n' ' ')" = "metadata.tsv projector_config.json sprite.png tensors.tsv " ]
    # 5 images: a 3x3 grid of 6x6 cells, 8-bit gray
    [ "$(png_head out/sprite.png)" = "18 18 8 0" ]
    nn-cat --json --data i.nns > images.json
    run python3 -c '
import json, struct, zlib
c = json.load(open("out/projector_config.json"))
e, = c["embeddings"]
assert e["tensorShape"] == [5, 4] and e["tensorPath"] == "tensors.tsv", e
assert e["metadataPath"] == "metadata.tsv", e
assert e["sprite"] == {"imagePath": "sprite.png", "singleImageDim": [6, 6]}, e
png = open("out/sprite.png", "rb").read()
i, idat = 8, b""
while i < len(png):
    n, = struct.unpack(">I", png[i:i + 4]); t, d = png[i + 4:i + 8], png[i + 8:i + 8 + n]
    if t == b"IHDR": w, h = struct.unpack(">II", d[:8])
    if t == b"IDAT": idat += d
    i += 12 + n
raw, rows, prev, p = zlib.decompress(idat), [], bytearray(w), 0
for y in range(h):
    f, line = raw[p], bytearray(raw[p + 1:p + 1 + w]); p += 1 + w
    for x in range(w):
        a, b, cc = line[x - 1] if x else 0, prev[x], prev[x - 1] if x else 0
        pa, pb, pc = abs(b - cc), abs(a - cc), abs(a + b - 2 * cc)
        line[x] = (line[x] + [0, a, b, (a + b) // 2,
                   a if pa <= pb and pa <= pc else b if pb <= pc else cc][f]) & 255
    rows.append(line); prev = line
want = {r["id"]: r["data"] for r in map(json.loads, open("images.json"))}
ids = [l.split("\t")[0] for l in open("out/metadata.tsv").read().splitlines()[1:]]
assert ids == ["r0001", "r0003", "r0005", "r0007", "r0009"], ids
for k, id in enumerate(ids):
    x0, y0 = k % 3 * 6, k // 3 * 6
    got = [v for y in range(6) for v in rows[y0 + y][x0:x0 + 6]]
    assert got == want[id], (k, id)
print("5 cells match")'
    assert_success
    assert_output "5 cells match"
}

@test "projector: colour images make an RGB sprite; big images shrink to 64, or to --thumb" {
    nn-mkstream -n 4 --shape 2 > v.nns
    nn-mkstream -n 4 --shape 100x50x3 --values random > rgb.nns
    nn-render projector -o out v.nns rgb.nns
    # 64 pixels high, 32 wide; 2x2 cells; colour type 2 (RGB)
    [ "$(png_head out/sprite.png)" = "64 128 8 2" ]
    grep -qF '"singleImageDim": [32, 64]' out/projector_config.json
    nn-render projector -o out --thumb 20 v.nns rgb.nns
    [ "$(png_head out/sprite.png)" = "20 40 8 2" ]
    grep -qF '"singleImageDim": [10, 20]' out/projector_config.json
}

@test "projector: a sprite over --sprite-max shrinks its thumbnails and says so; too many is an error" {
    nn-mkstream -n 10 --shape 2 > v.nns
    nn-mkstream -n 10 --shape 8x8x1 --dtype u8 > i.nns
    run --separate-stderr nn-render projector -o out --sprite-max 16 v.nns i.nns
    assert_success
    [ "$stderr" = "nn-render: sprite: 10 images in a 4x4 grid: thumbnails of 4 pixels, not 8, to stay within 16x16" ]
    [ "$(png_head out/sprite.png)" = "16 16 8 0" ]
    grep -qF '"singleImageDim": [4, 4]' out/projector_config.json
    run nn-render projector -o out2 --sprite-max 12 v.nns i.nns
    assert_failure 1
    assert_output "nn-render: i.nns: 10 images in a 12x12 sprite leave less than 4 pixels an image; export fewer records (nn-cat --head) or leave IMAGES out"
    [ ! -e out2 ]
}

@test "projector: an export is replaced whole; a folder with other files is left alone" {
    nn-mkstream -n 4 --shape 2 > v.nns
    nn-mkstream -n 4 --shape 3x3x1 --dtype u8 > i.nns
    nn-render projector -o out v.nns i.nns
    [ -e out/sprite.png ]
    nn-mkstream -n 2 --shape 5 > v5.nns
    nn-render projector -o out/ v5.nns
    [ ! -e out/sprite.png ]
    grep -qF '"tensorShape": [2, 5]' out/projector_config.json
    [ "$(ls -A | tr '\n' ' ')" = "i.nns out v.nns v5.nns " ]
    mkdir mine
    echo keep > mine/notes.txt
    run nn-render projector -o mine v.nns
    assert_failure 1
    assert_output "nn-render: mine: holds 'notes.txt', not an earlier export's; choose another folder"
    [ "$(ls mine)" = notes.txt ]
    echo file > plain
    run nn-render projector -o plain v.nns
    assert_failure 1
    assert_output "nn-render: plain: exists and is not a folder"
}

@test "projector: bad input exits 1 naming the file, and leaves the old export and no temporary" {
    nn-mkstream -n 6 --shape 2 > v.nns
    nn-mkstream -n 6 --shape 4x4x1 --dtype u8 > i.nns
    nn-render projector -o out v.nns i.nns
    cp -r out before
    nn-mkstream -n 4 --shape 4x4x1 --dtype u8 > few.nns
    run nn-render projector -o out v.nns few.nns
    assert_failure 1
    assert_output "nn-render: few.nns: no image with id 'r0004' (vector 5)"
    nn-mkstream -n 6 --shape 4x4x2 > two.nns
    run nn-render projector -o out v.nns two.nns
    assert_failure 1
    assert_output "nn-render: two.nns: header: records are 4x4x2, not images (HxW, HxWx1 or HxWx3)"
    nn-mkstream -n 3 --shape 2 --values nan > nan.nns
    run nn-render projector -o out nan.nns
    assert_failure 1
    assert_output "nn-render: nan.nns: record 1 (r0000): value 1 is NaN"
    nn-mkstream -n 0 --shape 2 > empty.nns
    run nn-render projector -o out empty.nns
    assert_failure 1
    assert_output "nn-render: empty.nns: no records to export"
    nn-mkstream -n 5 --shape 2 --no-trailer > cut.nns
    run nn-render projector -o out cut.nns
    assert_failure 1
    assert_output --partial "nn-render: cut.nns: "
    run nn-render projector -o out missing.nns
    assert_failure 1
    assert_output --partial "nn-render: missing.nns: "
    run nn-render projector -o nodir/out v.nns
    assert_failure 1
    assert_output --partial "nn-render: nodir/out: "
    diff -r before out
    [ "$(ls -A | grep -c tmp)" -eq 0 ]
}
