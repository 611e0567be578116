#!/usr/bin/env bats
# nn-align: each photo onto its person's base photo, each person onto a reference face.

load helper

# pattern SEED DY DX: a 16x16 pattern moved down DY and right DX (wrapping), as numbers
pattern() {
    awk -v seed="$1" -v dy="$2" -v dx="$3" 'BEGIN { s = seed; for (i = 0; i < 256; i++) { s = (s * 1103515245 + 12345) % 2147483648; v[i] = (s % 1000) / 1000 }
        for (y = 0; y < 16; y++) for (x = 0; x < 16; x++) printf "%s ", v[((y - dy + 16) % 16) * 16 + (x - dx + 16) % 16] }'
}

inner_equal() {   # inner_equal FILE ROW_A FILE ROW_B MARGIN: the rows agree inside the margin
    py=$(python_with_msgpack) || skip "no python3 with numpy"
    nn-cat --to npy a.npy "$1"
    nn-cat --to npy b.npy "$3"
    "$py" -c "
import numpy as np, sys
a = np.load('a.npy')[$2].reshape(16, 16); b = np.load('b.npy')[$4].reshape(16, 16); m = $5
sys.exit(0 if np.array_equal(a[m:-m, m:-m], b[m:-m, m:-m]) else 1)"
}

@test "--help, and bad usage exits 2" {
    run nn-align --help
    assert_success
    assert_line --index 0 "usage: nn-align [OPTION]... [INPUT]"
    run nn-align --within -1 x.nns
    assert_failure 2
}

@test "within a person: a photo moved by (1, 2) is moved back onto the base photo" {
    { pattern 7 0 0; pattern 7 1 2; } | nn-mkstream --values stdin --shape 16x16 -n 2 --labels normal,happy --groups p1 > x.nns
    ! inner_equal x.nns 0 x.nns 1 3
    nn-align --across 0 x.nns -o a.nns
    inner_equal a.nns 0 a.nns 1 3
    # the base photo itself does not move
    inner_equal x.nns 0 a.nns 0 1
}

@test "across persons: a person joins the frame of a saved reference face" {
    pattern 7 0 0 | nn-mkstream --values stdin --shape 16x16 -n 1 --labels normal --groups p1 > p1.nns
    { pattern 7 2 -1; pattern 9 2 -1; } | nn-mkstream --values stdin --shape 16x16 -n 2 --labels normal,sad --groups p2 > p2.nns
    nn-align --across 3 --save-reference ref.nns p1.nns -o a1.nns
    run nn-cat --info ref.nns
    assert_line --regexp '^records: +1$'
    nn-align --reference ref.nns --within 0 --across 3 p2.nns -o a2.nns
    inner_equal a1.nns 0 a2.nns 0 3
    # the person's other photo moved with the base photo: (2, -1) back
    pattern 9 0 0 | nn-mkstream --values stdin --shape 16x16 -n 1 --labels sad --groups p2 > sad.nns
    inner_equal sad.nns 0 a2.nns 1 3
}

@test "bad input: no base photo, a wrong reference, images too small" {
    { pattern 7 0 0; pattern 9 0 0; } | nn-mkstream --values stdin --shape 16x16 -n 2 --labels happy,sad > x.nns
    run nn-align --across 3 x.nns -o a.nns
    assert_failure 1
    assert_output "nn-align: x.nns: no photo has the base label 'normal' (see --base)"
    [ ! -e a.nns ]
    pattern 7 0 0 | nn-mkstream --values stdin --shape 16x16 -n 1 --labels normal > n.nns
    echo 0 0 0 0 | nn-mkstream --values stdin --shape 2x2 -n 1 --labels normal > small.nns
    run nn-align --across 3 --reference small.nns n.nns -o a.nns
    assert_failure 1
    assert_output "nn-align: small.nns: the reference must be one image of 256 values (nn-align --save-reference writes it)"
    echo $(printf '0.5 %.0s' {1..64}) | nn-mkstream --values stdin --shape 8x8 -n 1 --labels normal > tiny.nns
    run nn-align tiny.nns -o a.nns
    assert_failure 1
    assert_output "nn-align: tiny.nns: images of 8x8 are too small for shifts of 8 pixels"
}
