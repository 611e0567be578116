#!/usr/bin/env bats
# nn-render scatter and thumbs: PNGs of the right size, the same bytes every time, the palette's
# colours where the classes are, images drawn as they are; bad input and usage.

load helper

# "WxH" from the PNG's IHDR chunk (bytes 16 to 23, big-endian).
png_size() {
    od -An -tu1 -j16 -N8 "$1" |
        awk '{ printf "%dx%d\n", (($1 * 256 + $2) * 256 + $3) * 256 + $4, (($5 * 256 + $6) * 256 + $7) * 256 + $8 }'
}

is_png() {
    [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ]
}

# How many pixels of the PNG are exactly R G B (read back through nn-ingest).
pixels() {
    nn-ingest -c rgb --dtype u8 "$1" | nn-cat --json --data |
        sed 's/.*"data":\[//; s/\].*//' | tr ',' '\n' |
        awk -v r="$2" -v g="$3" -v b="$4" '{ v[NR % 3] = $1 }
            NR % 3 == 0 && v[1] == r && v[2] == g && v[0] == b { n++ } END { print n + 0 }'
}

# Nothing but the inputs in the directory: no output, no temporary file.
only_inputs() {
    run ls -A
    assert_output "$(printf '%s\n' "$@" | sort)"
}

@test "--help, --version, and bad usage exits 2" {
    run nn-render scatter --help
    assert_success
    assert_line --index 0 "usage: nn-render scatter [OPTION]... [POINTS]"
    run nn-render thumbs --help
    assert_success
    assert_line --index 0 "usage: nn-render thumbs [OPTION]... POINTS IMAGES"
    run nn-render scatter --version
    assert_success
    assert_output --partial "(neuro-noodle)"
    run nn-render scatter --by colour p.nns
    assert_failure 2
    assert_line --index 0 "nn-render: --by: 'colour' is not label or group"
    run nn-render scatter a.nns b.nns
    assert_failure 2
    assert_line --index 0 "nn-render: one POINTS input at most"
    run nn-render scatter --size 10 p.nns
    assert_failure 2
    assert_line --index 0 "nn-render: --size: '10' is not an integer in [200, 8000]"
    run nn-render scatter --alpha 2 p.nns
    assert_failure 2
    run nn-render thumbs p.nns
    assert_failure 2
    assert_line --index 0 "nn-render: give POINTS and IMAGES"
    run nn-render thumbs - -
    assert_failure 2
    assert_line --index 0 "nn-render: standard input (-) can be read only once"
}

@test "scatter: a PNG of --size, from a file or standard input, the same bytes every time" {
    nn-mkstream -n 2000 --shape 2 --kind points --values clusters --clusters 3 > p.nns
    nn-render scatter p.nns -o a.png
    is_png a.png
    [ "$(png_size a.png)" = 900x900 ]
    nn-render scatter --title "Three clusters" --by group --size 400 p.nns -o small.png
    [ "$(png_size small.png)" = 400x400 ]
    nn-render scatter -o b.png < p.nns
    nn-render scatter - > c.png < p.nns
    nn-render scatter p.nns -o d.png
    cmp a.png d.png
    is_png c.png
    cmp b.png c.png
    only_inputs p.nns a.png b.png c.png d.png small.png
}

@test "scatter: two classes give dots of the palette's first two colours, and no third" {
    nn-mkstream -n 100 --shape 2 --values clusters --clusters 2 > p.nns
    nn-render scatter --size 300 --alpha 1 --point-size 5 p.nns -o s.png
    blue=$(pixels s.png 0 114 178)     # render_colour(0), Okabe-Ito blue: the label c0
    orange=$(pixels s.png 230 159 0)   # render_colour(1): c1
    green=$(pixels s.png 0 158 115)    # render_colour(2): none here
    echo "# blue $blue, orange $orange, green $green" >&3
    # The legend's marker is some 60 pixels; 50 dots of radius 5 many more.
    [ "$blue" -gt 400 ]
    [ "$orange" -gt 400 ]
    [ "$green" -eq 0 ]
}

@test "scatter: bad input exits 1 naming the file or record, and writes nothing" {
    nn-mkstream --shape 2x2 > wide.nns
    run nn-render scatter wide.nns -o out.png
    assert_failure 1
    assert_output "nn-render: wide.nns: header: records are 2x2, a scatter needs 2 values"
    nn-mkstream -n 0 --shape 2 > empty.nns
    run nn-render scatter empty.nns -o out.png
    assert_failure 1
    assert_output "nn-render: empty.nns: no records to draw"
    nn-mkstream -n 4 --shape 2 --values nan > nan.nns
    run nn-render scatter nan.nns -o out.png
    assert_failure 1
    assert_output "nn-render: nan.nns: record 1 (r0000): value 1 is NaN"
    nn-mkstream -n 4 --shape 2 --trailer-count 5 > short.nns
    run nn-render scatter short.nns -o out.png
    assert_failure 1
    run nn-render scatter missing.nns -o out.png
    assert_failure 1
    only_inputs wide.nns empty.nns nan.nns short.nns
}

@test "thumbs: a PNG of --size, the same bytes every time; images without a point are ignored" {
    nn-mkstream -n 300 --shape 2 --kind points --values clusters --clusters 4 > p.nns
    nn-mkstream -n 400 --shape 8x8x1 --dtype u8 --values random > img.nns
    nn-render thumbs p.nns img.nns -o a.png
    is_png a.png
    [ "$(png_size a.png)" = 1200x1200 ]
    nn-render thumbs p.nns img.nns -o b.png
    cmp a.png b.png
    nn-render thumbs --size 600 --thumb 20 --title "Small" p.nns - < img.nns > c.png
    [ "$(png_size c.png)" = 600x600 ]
    nn-mkstream -n 300 --shape 8x8x3 --values random --dtype u8 > rgb.nns
    nn-render thumbs p.nns rgb.nns -o rgb.png
    is_png rgb.png
}

@test "thumbs: gray images are drawn gray and colour images in colour, pixel for pixel" {
    # Three points far apart: each gets its own 16 px cell, an 8x8 image drawn at twice its size.
    nn-mkstream -n 3 --shape 2 --values index > p.nns
    nn-mkstream -n 3 --shape 8x8x1 --dtype u8 --values index > gray.nns     # (i + j) % 256
    nn-mkstream -n 3 --shape 8x8x3 --dtype u8 --values index > rgb.nns
    nn-render thumbs --thumb 16 p.nns gray.nns -o gray.png
    nn-render thumbs --thumb 16 p.nns rgb.nns -o rgb.png
    # Value 20 lies inside each image (not on the border under the frame): 2x2 pixels each.
    [ "$(pixels gray.png 20 20 20)" -ge 12 ]
    [ "$(pixels rgb.png 20 20 20)" -eq 0 ]
    # Record 0's pixel 10 of rgb.nns is (30, 31, 32).
    [ "$(pixels rgb.png 30 31 32)" -ge 4 ]
    [ "$(pixels gray.png 30 31 32)" -eq 0 ]
}

@test "thumbs: bad input exits 1 naming the file, the record or the id, and writes nothing" {
    nn-mkstream -n 5 --shape 2 --values clusters > p.nns
    nn-mkstream -n 4 --shape 8x8x1 --dtype u8 > four.nns
    run nn-render thumbs p.nns four.nns -o out.png
    assert_failure 1
    assert_output "nn-render: four.nns: no image has the id 'r0004' (record 5 of p.nns)"
    nn-mkstream -n 5 --shape 8x8x2 --dtype u8 > two.nns
    run nn-render thumbs p.nns two.nns -o out.png
    assert_failure 1
    assert_output "nn-render: two.nns: header: records are 8x8x2, thumbnails need HxWxC images with C 1 or 3"
    run nn-render thumbs four.nns p.nns -o out.png
    assert_failure 1
    assert_output "nn-render: four.nns: header: records are 8x8x1, a thumbnail map needs 2 values"
    nn-mkstream -n 5 --shape 8x8x1 --values index > big.nns    # i + j/1000: above 1 from record 2
    run nn-render thumbs p.nns big.nns -o out.png
    assert_failure 1
    assert_output "nn-render: big.nns: record 2 (r0001): value 2 is 1.001, outside [0, 1]"
    only_inputs p.nns four.nns two.nns big.nns
}
