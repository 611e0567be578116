#!/usr/bin/env bats
# nn-edit: emotion vectors and latent arithmetic on hand-made latents, traversals, the residual
# mode, bad input.

load helper

# Two persons, normal and happy: p1 (0,0) -> (2,4), p2 (1,1) -> (5,3).
latents() {
    echo "0 0 2 4 1 1 5 3" | nn-mkstream --values stdin --shape 2 -n 4 --labels normal,happy --groups p1,p2
}

data() { nn-cat --json --data "$1" | sed 's/.*"data":\(.*\)}$/\1/'; }

@test "--help, and bad usage exits 2" {
    run nn-edit --help
    assert_success
    assert_line --index 0 "usage: nn-edit vectors [OPTION]... [LATENTS]"
    run nn-edit
    assert_failure 2
    assert_line --index 0 "nn-edit: no command: give vectors, apply or transfer"
    run nn-edit apply z.nns
    assert_failure 2
    assert_line --index 0 "nn-edit: no vectors: give --vectors FILE"
    run nn-edit apply -v v.nns --mode residual z.nns
    assert_failure 2
    assert_line --index 0 "nn-edit: --mode needs -m MODEL (it decodes)"
    run nn-edit apply -v v.nns --steps 3 -s 1 z.nns
    assert_failure 2
}

@test "vectors: the mean of each label and the paired offset from the base" {
    latents > z.nns
    run nn-edit vectors z.nns -o v.nns
    assert_success
    assert_output "nn-edit: happy: 2 records, offset from normal over 2 pairs"
    run nn-cat --json --data v.nns
    assert_success
    assert_output - <<'EOF'
{"id":"mean:happy","label":"happy","group":"mean","shape":[2],"data":[3.5,3.5]}
{"id":"mean:normal","label":"normal","group":"mean","shape":[2],"data":[0.5,0.5]}
{"id":"offset:normal>happy","label":"happy","group":"offset","shape":[2],"data":[3,3]}
EOF
}

@test "vectors: pairs within a group; without pairs, the difference of the label means" {
    echo "0 0 2 4 1 1 5 3" | nn-mkstream --values stdin --shape 2 -n 4 --labels normal,happy,normal,happy \
        --groups p1 > z.nns
    # one group: every happy pairs with every normal: ((2,4)+(1,3)+(5,3)+(4,2))/4
    run nn-edit vectors z.nns -o v.nns
    assert_output "nn-edit: happy: 2 records, offset from normal over 4 pairs"
    run data v.nns
    assert_line --index 2 "[3,3]"
    echo "1 1" | nn-mkstream --values stdin --shape 2 -n 1 --labels normal --groups p1 > n.nns
    echo "4 2" | nn-mkstream --values stdin --shape 2 -n 1 --labels happy --groups p2 > h.nns
    nn-cat n.nns h.nns > u.nns
    run nn-edit vectors u.nns -o v.nns
    assert_output "nn-edit: happy: 1 records, offset from normal over 0 pairs (no group has both: difference of the means)"
    run data v.nns
    assert_line --index 2 "[3,1]"
}

@test "apply: z + s * offset for every base record, ids and groups kept" {
    latents > z.nns
    nn-edit vectors z.nns -o v.nns 2>/dev/null
    run nn-edit apply -v v.nns -s 0.5 z.nns -o e.nns
    assert_success
    run nn-cat --json --data e.nns
    assert_output - <<'EOF'
{"id":"r0000>happy","label":"happy","group":"p1","shape":[2],"data":[1.5,1.5]}
{"id":"r0002>happy","label":"happy","group":"p2","shape":[2],"data":[2.5,2.5]}
EOF
}

@test "apply --steps: a traversal from the input to z + max * offset" {
    latents > z.nns
    nn-edit vectors z.nns -o v.nns 2>/dev/null
    nn-edit apply -v v.nns --steps 4 --max 1.5 z.nns -o t.nns
    run nn-cat --json --data t.nns
    assert_line --index 0 '{"id":"r0000>happy@0","label":"happy","group":"p1","shape":[2],"data":[0,0]}'
    assert_line --index 1 '{"id":"r0000>happy@0.5","label":"happy","group":"p1","shape":[2],"data":[1.5,1.5]}'
    assert_line --index 3 '{"id":"r0000>happy@1.5","label":"happy","group":"p1","shape":[2],"data":[4.5,4.5]}'
    assert_line --index 4 '{"id":"r0002>happy@0","label":"happy","group":"p2","shape":[2],"data":[1,1]}'
    assert_equal "${#lines[@]}" 8
}

@test "apply --target picks labels; an unknown target or base is an error" {
    echo "0 0 2 4 4 2 1 1 5 3 3 5" | nn-mkstream --values stdin --shape 2 -n 6 --labels normal,happy,sad --groups p1,p2 > z.nns
    nn-edit vectors z.nns -o v.nns 2>/dev/null
    run nn-edit apply -v v.nns --target sad z.nns -o e.nns
    assert_success
    run nn-cat --json --data e.nns
    assert_line --index 0 '{"id":"r0000>sad","label":"sad","group":"p1","shape":[2],"data":[3,3]}'
    assert_equal "${#lines[@]}" 2
    run nn-edit apply -v v.nns --target angry z.nns -o e.nns
    assert_failure 1
    assert_output "nn-edit: v.nns: no offset from 'normal' to 'angry' (--target)"
    run nn-edit apply -v v.nns --base sad z.nns -o e.nns
    assert_failure 1
    assert_output "nn-edit: v.nns: the offsets start from 'normal', not from --base 'sad'"
    run nn-edit vectors --base angry z.nns -o w.nns
    assert_failure 1
    assert_output "nn-edit: z.nns: no record has the base label 'angry' (see --base)"
    [ ! -e w.nns ]
}

@test "bad input: NaN latents, a wrong width, not a vectors stream" {
    nn-mkstream --values nan --shape 2 -n 2 --labels normal,happy > nan.nns
    run nn-edit vectors nan.nns -o v.nns
    assert_failure 1
    assert_output --partial "nan.nns: record 1"
    latents > z.nns
    nn-edit vectors z.nns -o v.nns 2>/dev/null
    nn-mkstream --shape 3 -n 2 --labels normal > z3.nns
    run nn-edit apply -v v.nns z3.nns -o e.nns
    assert_failure 1
    assert_output "nn-edit: z3.nns: header: records are 3 f32 values, expected 2 f32 latents"
    run nn-edit apply -v z.nns z.nns -o e.nns
    assert_failure 1
    assert_output --partial "z.nns: header: not emotion vectors"
    [ ! -e e.nns ]
}

@test "residual mode at strength 0 returns the input image exactly; plain decodes" {
    nn-mkfaces -n 4 > f.nns
    nn-vae-train -o m.nnm --hidden 16 --latent 3 -e 2 -t 1 f.nns 2>/dev/null
    nn-encode -m m.nnm f.nns | nn-edit vectors -o v.nns 2>/dev/null
    nn-edit apply -v v.nns -m m.nnm --mode residual -s 0 --target happy f.nns -o r.nns
    nn-cat --filter label=normal f.nns > n.nns
    diff <(data n.nns) <(data r.nns)
    nn-edit apply -v v.nns -m m.nnm --mode residual -s 1 --target happy f.nns -o r1.nns
    ! diff -q <(data n.nns) <(data r1.nns) >/dev/null
    # plain mode at strength 0 is the decoder's reconstruction
    nn-edit apply -v v.nns -m m.nnm --mode plain -s 0 --target happy f.nns -o p.nns
    nn-encode -m m.nnm n.nns | nn-decode -m m.nnm > d.nns
    diff <(data d.nns) <(data p.nns)
    run nn-cat --info p.nns
    assert_line --regexp '^shape: +24x24x1'
}

@test "vectors --shrink: each offset value scaled by max(0, 1 - var / (n mean^2)); apply --clip" {
    # three pairs: differences (2,4), (3,2), (3,4): means (8/3, 10/3), variances (1/3, 4/3)
    echo "0 0 2 4 1 1 4 3 5 5 8 9" | nn-mkstream --values stdin --shape 2 -n 6 --labels normal,happy --groups p1,p2,p3 > z.nns
    nn-edit vectors --shrink z.nns -o v.nns 2>/dev/null
    run data v.nns
    # 8/3 * (1 - (1/3) / (3 * 64/9)) = 2.625; 10/3 * (1 - (4/3) / (3 * 100/9)) = 3.2
    assert_line --index 2 "[2.625,3.20000005]"
    # a value the pairs disagree on in sign is dropped: differences (1,1), (-1,1)
    echo "0 0 1 1 0 0 -1 1" | nn-mkstream --values stdin --shape 2 -n 4 --labels normal,happy --groups p1,p2 > d.nns
    nn-edit vectors --shrink d.nns -o w.nns 2>/dev/null
    run data w.nns
    assert_line --index 2 "[0,1]"
    echo "0.5 0.9" | nn-mkstream --values stdin --shape 2 -n 1 --labels normal --groups p1 > x.nns
    nn-edit apply -v w.nns --clip x.nns -o c.nns
    run data c.nns
    assert_output "[0.5,1]"
}

# Examples 1x4 gray: p1 and p2 change by (.25,.5,0,0) and (.75,0,0,0); q's own photos (a change
# of +.5 everywhere) must never be used for q.
examples() {
    echo "0 0 0 0 0.25 0.5 0 0 0 0 0 0 0.75 0 0 0 0.5 0.5 0.5 0.5 1 1 1 1" |
        nn-mkstream --values stdin --shape 1x4x1 -n 6 --labels normal,happy --groups p1,p2,q
}

@test "transfer -r 0: x + s * the other persons' mean change, clipped; --shrink; the face's own photos skipped" {
    examples > ex.nns
    echo "0.25 0.5 0.5 0.75" | nn-mkstream --values stdin --shape 1x4x1 -n 1 --labels normal --groups q > in.nns
    nn-edit transfer -e ex.nns -r 0 in.nns -o o.nns
    run nn-cat --json --data o.nns
    assert_output '{"id":"r0000>happy","label":"happy","group":"q","shape":[1,4,1],"data":[0.75,0.75,0.5,0.75]}'
    run data <(nn-edit transfer -e ex.nns -r 0 -s 2 in.nns)
    assert_output "[1,1,0.5,0.75]"
    # shrunk: pixel 1, mean .5, variance .125 over 2: .5 (1 - .125 / (2 * .25)) = .375;
    # pixel 2, mean .25: 1 - .125 / (2 * .0625) = 0
    run data <(nn-edit transfer -e ex.nns -r 0 --shrink in.nns)
    assert_output "[0.625,0.5,0.5,0.75]"
    # a face of another person also gets q's change: the mean over three
    echo "0 0 0 0" | nn-mkstream --values stdin --shape 1x4x1 -n 1 --labels normal --groups r > r.nns
    run data <(nn-edit transfer -e ex.nns -r 0 r.nns)
    assert_output "[0.5,0.333333343,0.166666672,0.166666672]"
}

@test "transfer -r 2: a change moves with the face's feature; -r 0 leaves it where the example had it" {
    # the example's bright mouth is at x = 4 and goes dark; the face's mouth is at x = 6
    row() { local v=(); for ((i = 0; i < 12; i++)); do v+=("$([ $i = "$1" ] && echo "$2" || echo 0.5)"); done; echo "${v[*]}"; }
    echo "$(row 4 1) $(row 4 0)" | nn-mkstream --values stdin --shape 1x12x1 -n 2 --labels normal,happy --groups p > ex.nns
    row 6 1 | nn-mkstream --values stdin --shape 1x12x1 -n 1 --labels normal --groups q > in.nns
    run data <(nn-edit transfer -e ex.nns -r 0 -s 0.5 in.nns)
    assert_output "[0.5,0.5,0.5,0.5,0,0.5,1,0.5,0.5,0.5,0.5,0.5]"
    run data <(nn-edit transfer -e ex.nns -r 2 -w 3 -s 0.5 in.nns)
    assert_output "[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]"
    run nn-cat --info <(nn-edit transfer -e ex.nns -r 2 -w 3 -s 0.5 in.nns)
    assert_output --partial '"mode":"transfer"'
    assert_output --partial '"radius":2'
}

@test "transfer: bad input names the file, record and option" {
    examples > ex.nns
    echo "0.25 0.5 0.5 0.75" | nn-mkstream --values stdin --shape 1x4x1 -n 1 --labels normal --groups q > in.nns
    run nn-edit transfer in.nns
    assert_failure 2
    assert_line --index 0 "nn-edit: no examples: give --examples FILE"
    run nn-edit transfer -e ex.nns -w 4 in.nns
    assert_failure 2
    assert_line --index 0 "nn-edit: --window: 4 is even: give an odd side"
    run nn-edit transfer -e ex.nns --target happy,hapy in.nns
    assert_failure 1
    assert_output "nn-edit: ex.nns: no photo has the label 'hapy' (--target)"
    nn-cat ex.nns ex.nns > twice.nns
    run nn-edit transfer -e twice.nns in.nns
    assert_failure 1
    assert_output "nn-edit: twice.nns: record 7 (r0000): a second 'normal' photo of group 'p1' (the first is r0000)"
    echo "0 0 0" | nn-mkstream --values stdin --shape 1x3x1 -n 1 --labels normal --groups q > narrow.nns
    run nn-edit transfer -e ex.nns narrow.nns
    assert_failure 1
    assert_output "nn-edit: narrow.nns: header: images are 1x3x1, the examples ex.nns 1x4x1"
    nn-cat --filter group=q ex.nns > own.nns
    run nn-edit transfer -e own.nns -o out.nns in.nns
    assert_failure 1
    assert_output "nn-edit: in.nns: record 1 (r0000): no example person other than its own group 'q' has both a 'normal' and a 'happy' photo"
    [ ! -e out.nns ]
    nn-mkstream --values nan --shape 1x4x1 -n 1 --labels normal --groups q > nan.nns
    run nn-edit transfer -e ex.nns nan.nns
    assert_failure 1
    assert_output "nn-edit: nan.nns: record 1 (r0000): value 1 is nan, not an intensity in [0, 1]"
}

@test "transfer: where the faces match for every shift, nothing moves (ties go to no shift)" {
    # 1x40 rows: different texture in the first 12 pixels, then flat 0.5 in both faces; the
    # example's change is a dark dot at x = 30, which must stay at 30
    row() { awk -v a="$1" -v dot="$2" 'BEGIN { for (i = 0; i < 40; i++) { v = i < 12 ? (i * a) % 1 : 0.5; if (i == dot) v = 0; printf "%s%.4f", i ? " " : "", v } print "" }'; }
    echo "$(row 0.37 -1) $(row 0.37 30)" | nn-mkstream --values stdin --shape 1x40x1 -n 2 --labels normal,happy --groups p > ex.nns
    row 0.61 -1 | nn-mkstream --values stdin --shape 1x40x1 -n 1 --labels normal --groups q > in.nns
    run bash -c "nn-edit transfer -e ex.nns -r 2 -w 5 in.nns | nn-cat --json --data | sed 's/.*\"data\":\[//; s/\].*//' | tr ',' '\n' | awk 'NR > 12 && \$1 != 0.5 { print NR - 1, \$1 }'"
    assert_output "30 0"
}

@test "transfer: the base label as a target, and records that are not images, are errors" {
    examples > ex.nns
    echo "0.25 0.5 0.5 0.75" | nn-mkstream --values stdin --shape 1x4x1 -n 1 --labels normal --groups q > in.nns
    run nn-edit transfer -e ex.nns --target normal,happy in.nns
    assert_failure 1
    assert_output "nn-edit: 'normal' is the base label, not a target (--target)"
    echo 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 | nn-mkstream --values stdin --shape 1x4x1x2 -n 2 --labels normal,happy --groups p > e4.nns
    run nn-edit transfer -e e4.nns in.nns
    assert_failure 1
    assert_output "nn-edit: e4.nns: header: records are not images (shape has 4 dimensions, not HxW or HxWxC)"
}
