#!/usr/bin/env bats
# nn-ingest: decoding every PNG type, JPEG, IDX; crop and resize values; labels and groups;
# bad input. Fixtures are written by tests/tools/nn-mkimage with exact sample values.

load helper

values() { nn-cat --json --data "$@" | sed 's/.*"data":\[\(.*\)\]}/\1/'; }
ramp16=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15

@test "--help and bad usage" {
    run nn-ingest --help
    assert_success
    assert_line --index 0 "usage: nn-ingest [OPTION]... INPUT..."
    run nn-ingest --size 64 x.png
    assert_failure 2
    assert_line --index 0 "nn-ingest: --size: '64' is not WxH (e.g. 64x64)"
    run nn-ingest --crop middle x.png
    assert_failure 2
    assert_line --index 0 "nn-ingest: --crop: 'middle' is not center or WxH+X+Y"
    run nn-ingest --pattern '(a' x.png
    assert_failure 2
    assert_line --index 0 --partial "nn-ingest: --pattern: "
    run nn-ingest --pattern '(a)' --label-capture 2 x.png
    assert_failure 2
    assert_line --index 0 "nn-ingest: --pattern has 1 capture: --label-capture and --group-capture must be at most that"
    run nn-ingest
    assert_failure 2
    assert_line --index 0 "nn-ingest: no INPUT given"
    run nn-ingest --pattern x --label-from-dir d
    assert_failure 2
    assert_line --index 0 "nn-ingest: --pattern and --label-from-dir both give labels: choose one"
    run nn-ingest --size 65535x65535 d
    assert_failure 2
    assert_line --index 0 "nn-ingest: --size 65535x65535 makes records larger than 1073741824 bytes"
    run nn-ingest --crop 1x1+2147483647+0 d
    assert_failure 2
}

@test "area averaging when shrinking: 4x4 to 2x2 is the mean of each 2x2 block" {
    nn-mkimage png g.png 4x4 gray 8 $ramp16
    run values <(nn-ingest g.png --size 2x2)
    # (0+1+4+5)/4/255, (2+3+6+7)/4/255, (8+9+12+13)/4/255, (10+11+14+15)/4/255
    assert_output "0.00980392192,0.0176470596,0.0411764719,0.0490196086"
    nn-mkimage png g2.png 4x4 gray 8 0,2,4,6,8,10,12,14,16,18,20,22,24,26,28,30
    run values <(nn-ingest g2.png --size 2x2 --dtype u8)
    assert_output "5,9,21,25"
}

@test "area averaging over fractional pixels: 3 to 2 weighs the middle pixel half to each" {
    nn-mkimage png g.png 3x1 gray 8 0,90,180
    # out0 = (0*1 + 90*0.5)/1.5 = 30, out1 = (90*0.5 + 180*1)/1.5 = 150
    run values <(nn-ingest g.png --size 2x1 --dtype u8)
    assert_output "30,150"
}

@test "bilinear when growing, pixel centres at +0.5, edges clamped" {
    nn-mkimage png g.png 2x1 gray 8 0,200
    # x = (i + 0.5) / 2 - 0.5: -0.25 -> 0, 0.25 -> 50, 0.75 -> 150, 1.25 -> 200
    run values <(nn-ingest g.png --size 4x1 --dtype u8)
    assert_output "0,50,150,200"
}

@test "crop: centred square and an explicit box, before resizing" {
    nn-mkimage png g.png 4x2 gray 8 0,1,2,3,4,5,6,7
    run values <(nn-ingest g.png --crop center --dtype u8)
    assert_output "1,2,5,6"
    run nn-cat --json <(nn-ingest g.png --crop center)
    assert_output --partial '"shape":[2,2,1]'
    run values <(nn-ingest g.png --crop 2x1+2+1 --dtype u8)
    assert_output "6,7"
    run nn-ingest g.png --crop 3x3+2+0
    assert_failure 1
    assert_output "nn-ingest: g.png: crop box 3x3+2+0 does not fit in the 4x2 image"
}

@test "every PNG colour type and bit depth decodes to the right values" {
    nn-mkimage png g1.png 3x1 gray 1 0,1,1
    run values <(nn-ingest g1.png --dtype u8)
    assert_output "0,255,255"
    nn-mkimage png g2.png 4x1 gray 2 0,1,2,3
    run values <(nn-ingest g2.png --dtype u8)
    assert_output "0,85,170,255"
    nn-mkimage png g4.png 2x1 gray 4 1,15
    run values <(nn-ingest g4.png --dtype u8)
    assert_output "17,255"
    nn-mkimage png g16.png 2x1 gray 16 257,65535
    run values <(nn-ingest g16.png)
    assert_output "0.00392156886,1"
    nn-mkimage png ga.png 2x1 graya 8 10,0,20,255
    run values <(nn-ingest ga.png --dtype u8)
    assert_output "10,20"
    NN_PALETTE="255,0,0;0,0,255" nn-mkimage png p.png 2x1 palette 8 0,1
    run values <(nn-ingest p.png --channels rgb --dtype u8)
    assert_output "255,0,0,0,0,255"
    NN_PALETTE="0,0,0;255,255,255" nn-mkimage png p1.png 3x1 palette 1 1,0,1
    run values <(nn-ingest p1.png --dtype u8)
    assert_output "255,0,255"
    nn-mkimage png rgb16.png 1x1 rgb 16 65535,0,0
    run values <(nn-ingest rgb16.png --channels rgb)
    assert_output "1,0,0"
    nn-mkimage png rgba.png 2x1 rgba 8 255,0,0,0,0,255,0,128
    run values <(nn-ingest rgba.png --channels rgb --dtype u8)
    assert_output "255,0,0,0,255,0"
}

@test "colour to gray by the Rec. 601 luma weights; gray to rgb repeats the value" {
    nn-mkimage png rgb.png 3x1 rgb 8 255,0,0,0,255,0,0,0,255
    run values <(nn-ingest rgb.png)
    assert_output "0.298999995,0.587000012,0.114"
    nn-mkimage png g.png 1x1 gray 8 51
    run values <(nn-ingest g.png --channels rgb)
    assert_output "0.200000003,0.200000003,0.200000003"
}

@test "JPEG decodes through libjpeg" {
    nn-mkimage jpeg j.jpg 2x2 gray 0,100,200,255
    run values <(nn-ingest j.jpg --dtype u8)
    assert_output "0,100,200,255"
    nn-mkimage jpeg c.jpg 8x8 rgb $(printf '200,10,10,%.0s' {1..63})200,10,10
    run nn-ingest c.jpg --channels rgb --dtype u8 -o c.nns
    assert_success
    run nn-cat --json --data --head 1 c.nns
    assert_output --regexp '"data":\[(19[0-9]|20[0-9]|21[0-9]),([0-9]|1[0-9]|2[0-9]),([0-9]|1[0-9]|2[0-9]),'
}

@test "IDX images with their labels file, plain and gzip, names for labels" {
    nn-mkimage idx train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz 12 3x2
    nn-mkimage idx t10k-images-idx3-ubyte t10k-labels-idx1-ubyte 3 3x2
    mkdir d && mv t10k-* train-* d/
    run nn-ingest d --label-names zero,one,two,three,four,five,six,seven,eight,nine -o s.nns
    assert_success
    run nn-cat --json s.nns --head 4
    assert_line --index 0 '{"id":"idx:t10k:0","label":"zero","group":"t10k","shape":[2,3,1]}'
    assert_line --index 3 '{"id":"idx:train:0","label":"zero","group":"train","shape":[2,3,1]}'
    run nn-cat --info s.nns
    assert_line "records:  15"
    run values <(nn-cat --filter id=idx:train:11 s.nns)
    assert_output "0.0431372561,0.0470588244,0.0509803928,0.0549019612,0.0588235296,0.0627451017"
    printf 'a\nb\n' > names.txt
    run nn-ingest d/t10k-images-idx3-ubyte --label-names @names.txt -o x.nns
    assert_failure 1
    assert_output "nn-ingest: d/t10k-labels-idx1-ubyte: item 3: label 2 has no name in --label-names (2 names)"
    run nn-ingest d/t10k-images-idx3-ubyte --idx-labels d/train-labels-idx1-ubyte.gz -o x.nns
    assert_failure 1
    assert_output "nn-ingest: d/train-labels-idx1-ubyte.gz: expected 3 labels in a 1-D IDX file, found 12 (1-D)"
    run nn-ingest d --idx-labels d/t10k-labels-idx1-ubyte -o x.nns
    assert_failure 1
    assert_output "nn-ingest: d/train-images-idx3-ubyte.gz: --idx-labels names the labels of one IDX input, and this is a second"
    mv d/t10k-labels-idx1-ubyte d/t10k-labels.bak
    run --separate-stderr nn-ingest d/t10k-images-idx3-ubyte -o x.nns
    assert_success
    [ "$stderr" = "nn-ingest: d/t10k-images-idx3-ubyte: no labels file beside it: labels are empty" ]
    run nn-ingest d/t10k-images-idx3-ubyte --label-names a,b -o x.nns
    assert_failure 1
}

@test "labels and groups from the file name with a regular expression (the Yale layout)" {
    mkdir faces
    for s in 01 02; do for e in happy sad normal; do
        nn-mkimage png faces/subject$s.$e.png 2x2 gray 8 1,2,3,4
    done; done
    echo 'not an image' > faces/README
    run nn-ingest faces --pattern '^(subject[0-9]+)\.([a-z]+)\.png$' --group-capture 1 --label-capture 2 -o s.nns
    assert_success
    run nn-cat --json s.nns
    assert_line --index 0 '{"id":"subject01.happy.png","label":"happy","group":"subject01","shape":[2,2,1]}'
    assert_line --index 5 '{"id":"subject02.sad.png","label":"sad","group":"subject02","shape":[2,2,1]}'
    nn-mkimage png faces/extra.png 2x2 gray 8 1,2,3,4
    run nn-ingest faces --pattern '^(subject[0-9]+)\.([a-z]+)\.png$' --group-capture 1 --label-capture 2 -o s.nns
    assert_failure 1
    assert_output "nn-ingest: faces/extra.png: file name does not match --pattern"
}

@test "labels from the parent folder, from a manifest, and paths from a list" {
    mkdir -p data/cat data/dog
    nn-mkimage png data/cat/1.png 1x1 gray 8 1
    nn-mkimage png data/dog/1.png 1x1 gray 8 2
    run nn-cat --json <(nn-ingest data --label-from-dir)
    assert_output '{"id":"cat/1.png","label":"cat","group":"","shape":[1,1,1]}
{"id":"dog/1.png","label":"dog","group":"","shape":[1,1,1]}'
    nn-mkimage png data/top.png 1x1 gray 8 3
    run nn-cat --json <(nn-ingest data/ --label-from-dir)
    assert_line --index 2 '{"id":"top.png","label":"","group":"","shape":[1,1,1]}'
    run nn-cat --json <(nn-ingest data/dog/1.png --label-from-dir)
    assert_output '{"id":"data/dog/1.png","label":"dog","group":"","shape":[1,1,1]}'
    printf 'data/dog/1.png\tbarks\tp2\n# a comment\ndata/cat/1.png\tmeows\tp1\n' > m.tsv
    run nn-cat --json <(nn-ingest --manifest m.tsv)
    assert_output '{"id":"data/dog/1.png","label":"barks","group":"p2","shape":[1,1,1]}
{"id":"data/cat/1.png","label":"meows","group":"p1","shape":[1,1,1]}'
    printf 'data/dog/1.png\n' | nn-ingest --list - -o l.nns
    run nn-cat --json l.nns
    assert_output '{"id":"data/dog/1.png","label":"","group":"","shape":[1,1,1]}'
    printf 'data/dog/1.png\tbarks\n' > bad.tsv
    run nn-ingest --manifest bad.tsv
    assert_failure 1
    assert_output "nn-ingest: bad.tsv: line 1: expected path, label and group separated by tabs"
}

@test "the stream header says what was done" {
    nn-mkimage png g.png 4x4 gray 8 $ramp16
    run nn-cat --info <(nn-ingest g.png --crop center --size 2x2)
    assert_output --partial '"channels":"gray (Rec. 601 luma)","crop":"center","size":"2x2","resize":"area average when shrinking, bilinear when growing","range":"[0,1]"'
}

@test "bad images: named with the decoder's reason; --skip-bad skips and counts" {
    nn-mkimage png good.png 2x2 gray 8 1,2,3,4
    head -c 60 good.png > cut.png
    printf 'garbage' > bad.png
    nn-mkimage png big.png 3x3 gray 8 1,2,3,4,5,6,7,8,9
    run nn-ingest good.png cut.png -o s.nns
    assert_failure 1
    assert_output --regexp "^nn-ingest: cut.png: PNG: .+"
    [ ! -e s.nns ]
    run nn-ingest bad.png
    assert_failure 1
    assert_output "nn-ingest: bad.png: not a PNG or JPEG image"
    run nn-ingest good.png big.png
    assert_failure 1
    assert_output "nn-ingest: big.png: image is 3x3, the stream's records are 2x2 (use --size)"
    run --separate-stderr nn-ingest --skip-bad good.png cut.png bad.png big.png -o s.nns
    assert_success
    [ "${stderr_lines[1]}" = "nn-ingest: bad.png: skipped: not a PNG or JPEG image" ]
    [ "${stderr_lines[3]}" = "nn-ingest: skipped 3 bad inputs" ]
    run nn-cat --info s.nns
    assert_line "records:  1"
    run nn-ingest --skip-bad bad.png
    assert_failure 1
    assert_line "nn-ingest: no image could be read (1 skipped)"
    head -c 100 good.png > cut.jpg
    nn-mkimage jpeg j.jpg 8x8 gray $(printf '9,%.0s' {1..63})9
    head -c 300 j.jpg > cutj.jpg
    run nn-ingest cutj.jpg
    assert_failure 1
    assert_output --regexp "^nn-ingest: cutj.jpg: JPEG: .+"
}

@test "empty directories and missing files are errors, not empty streams" {
    mkdir empty
    run nn-ingest empty
    assert_failure 1
    assert_output "nn-ingest: empty: no images found (looked for .png, .jpg, .jpeg and IDX files)"
    run nn-ingest missing.png
    assert_failure 1
    assert_output "nn-ingest: missing.png: cannot open: No such file or directory"
    nn-mkimage idx a-images-idx3-ubyte a-labels-idx1-ubyte 5 2x2
    head -c 30 a-images-idx3-ubyte > cut-images-idx3-ubyte
    run nn-ingest cut-images-idx3-ubyte --idx-labels a-labels-idx1-ubyte -o s.nns
    assert_failure 1
    assert_output "nn-ingest: cut-images-idx3-ubyte: item 4 of 5: truncated file"
    [ ! -e s.nns ]
}

@test "values stay in [0, 1] after resampling, and u8 rounds to nearest" {
    nn-mkimage png w.png 7x5 gray 8 $(printf '255,%.0s' {1..34})255
    run values <(nn-ingest w.png --size 3x2)
    assert_output "1,1,1,1,1,1"
    # 1/3 of a level rounds down, 2/3 up
    nn-mkimage png t.png 3x2 gray 8 0,0,1,0,1,1
    run values <(nn-ingest t.png --size 1x2 --dtype u8)
    assert_output "0,1"
}

@test "a broken link in a walk is a bad input like any other; --skip-bad skips it" {
    mkdir d
    nn-mkimage png d/a.png 1x1 gray 8 1
    ln -s nowhere.png d/b.png
    run nn-ingest d -o s.nns
    assert_failure 1
    assert_output "nn-ingest: d/b.png: cannot open: No such file or directory"
    run nn-ingest d --skip-bad -o s.nns
    assert_success
    ln -s .. d/loop
    run nn-ingest d -o s.nns
    assert_failure 1
    assert_output --partial "directories nested too deep (a symbolic link loop?)"
}

@test "the walk is sorted by path, so the order does not depend on the file system" {
    mkdir d
    for n in b a c; do nn-mkimage png d/$n.png 1x1 gray 8 1; done
    mkdir d/sub && nn-mkimage png d/sub/0.png 1x1 gray 8 1
    run nn-cat --json <(nn-ingest d)
    assert_line --index 0 --partial '"id":"a.png"'
    assert_line --index 2 --partial '"id":"c.png"'
    assert_line --index 3 --partial '"id":"sub/0.png"'
}

@test "optional: the Yale faces, 64x64, labels and groups from the names" {
    yale="$ROOT/../shared/data/yalefaces"
    [ -d "$yale" ] || skip "no ../shared/data/yalefaces"
    run nn-cat --info <(nn-ingest "$yale" --crop center --size 64x64 --pattern '^(subject[0-9]+)\.([a-z]+)\.png$' --group-capture 1 --label-capture 2)
    assert_line "shape:    64x64x1 (4096 values, 16384 bytes a record)"
    assert_line "groups:   10"
    assert_line "          10  happy"
}
