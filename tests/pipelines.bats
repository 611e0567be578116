#!/usr/bin/env bats
# The pipelines: a small Fashion-MNIST run is byte-identical when repeated, a rerun skips every
# unchanged stage and reruns from the first changed one, and the run is recorded.

load helper

FASHION=/usr/share/datasets/fashion-mnist

small_run() {
    "$ROOT/pipelines/fashion-mnist.sh" --out "$1" --limit 300 --epochs "${2:-1}" --threads 1
}

@test "fashion-mnist.sh: a repeated run gives the same bytes in every stream, PNG and page" {
    [ -e "$FASHION/train-images-idx3-ubyte.gz" ] || skip "dataset-fashion-mnist is not installed"
    small_run out 2>/dev/null
    mv out first
    small_run out 2>/dev/null
    for f in first/*; do
        case $f in *run.log|*metrics.jsonl) continue ;; esac   # these hold wall times
        cmp "$f" "out/${f#first/}" || fail "$f differs between two runs"
    done
    for f in map.png thumbs.png map.html recon.png curves.png samples.png; do
        [ -s "out/$f" ] || fail "no $f"
    done
    run nn-cat --info out/map.nns
    assert_line --regexp '^records: +600$'
}

@test "fashion-mnist.sh: a rerun skips unchanged stages and reruns from the first changed one" {
    [ -e "$FASHION/train-images-idx3-ubyte.gz" ] || skip "dataset-fashion-mnist is not installed"
    small_run out 2>/dev/null
    run small_run out
    assert_success
    assert_output --partial "ingest       unchanged, skipped"
    refute_output --partial "done in"
    run small_run out 2
    assert_output --partial "split-test   unchanged, skipped"
    assert_output --regexp "train +nn-vae-train .* -e 2 "
    assert_output --partial "tsne         done in"
    assert_output --partial "originals    unchanged, skipped"
    # the record of the run: the pipeline's command, versions, and every stage's command
    run cat out/run.log
    assert_line --regexp '^# fashion-mnist.sh --out out --data .* --limit 300 --epochs 2 --latent 20 --seed 1 --threads 1$'
    assert_line --regexp '^# nn: nn-cat \(neuro-noodle\) [0-9.]+$'
    assert_line --regexp $'^train\t[0-9.]+ s\tnn-vae-train --hidden 400 --latent 20 -e 2 --seed 1 -t 1 '
}

@test "a stage that fails stops the pipeline and leaves no stamp, so the rerun retries it" {
    mkdir faces
    run "$ROOT/pipelines/faces.sh" --out out faces
    assert_failure
    assert_output --partial "nn-ingest: faces: no images found"
    [ ! -e out/.stamps/ingest ]
    run "$ROOT/pipelines/faces.sh" --bogus faces
    assert_failure 2
}

@test "stage keys hash the files a command names, also as NAME=FILE, but not its outputs" {
    OUT=$BATS_TEST_TMPDIR/o
    . "$ROOT/pipelines/lib.sh"
    echo a > in.txt
    stage copy "o/out.txt" -- cp in.txt o/out.txt 2>/dev/null
    run stage copy "o/out.txt" -- cp in.txt o/out.txt
    assert_output --partial "unchanged, skipped"
    echo b > in.txt
    run stage copy "o/out.txt" -- cp in.txt o/out.txt
    assert_output --partial "done in"
    stage named "o/n.txt" -- sh -c 'cat "${1#*=}" > o/n.txt' sh pred=in.txt 2>/dev/null
    echo c > in.txt
    run stage named "o/n.txt" -- sh -c 'cat "${1#*=}" > o/n.txt' sh pred=in.txt
    assert_output --partial "done in"
    [ "$(cat o/n.txt)" = c ]
    # outputs whose paths hold spaces: skipped on the rerun, and not hashed as inputs
    mkdir -p "o d"
    stage spaced "o d/a.txt" "o d/b c.txt" -- sh -c 'cat in.txt > "o d/a.txt"; cat in.txt > "o d/b c.txt"' 2>/dev/null
    run stage spaced "o d/a.txt" "o d/b c.txt" -- sh -c 'cat in.txt > "o d/a.txt"; cat in.txt > "o d/b c.txt"'
    assert_output --partial "unchanged, skipped"
    rm "o d/b c.txt"
    run stage spaced "o d/a.txt" "o d/b c.txt" -- sh -c 'cat in.txt > "o d/a.txt"; cat in.txt > "o d/b c.txt"'
    assert_output --partial "done in"
    # a call without the -- is a mistake, said as one
    run stage broken "o/x.txt" cp in.txt o/x.txt
    assert_failure 2
    assert_output "stage broken: no -- before the command"
}

@test "emotion-transfer.sh on a folder of drawn faces: aligned, edited, scored, drawn; a rerun skips it all" {
    mkdir faces
    nn-mkfaces -n 10 | nn-cat --json --data | python3 -c "
import json, subprocess, sys
for line in sys.stdin:
    r = json.loads(line)
    values = ','.join(str(round(v * 255)) for v in r['data'])
    subprocess.run(['nn-mkimage', 'png', 'faces/%s.png' % r['id'], '24x24', 'gray', '8', values], check=True)"
    run "$ROOT/pipelines/emotion-transfer.sh" --out out --pattern '^(p[0-9]+)\.([a-z]+)\.png$' \
        --size 24x24 --emotions happy,sad,surprised --epochs 50 --latent 8 --align 2,3 faces
    assert_success
    assert_line --regexp '^identity +surprised +2 '
    assert_line --regexp '^pixel +all +6 '
    assert_line --regexp '^residual +happy +2 '
    assert_line --regexp '^transfer +all +6 '
    for f in score.txt score.json transfer.png traversal.png run.log; do [ -s "out/$f" ] || fail "no $f"; done
    # the strengths chosen by leaving each training person out: the drawn changes are the same
    # for everyone, so every emotion gets a strength, and the pixel edit and the transfer beat
    # the photo itself
    for m in pixel transfer; do
        run cut -f1 "out/strengths-$m.tsv"
        assert_output $'happy\nsad\nsurprised'
        awk '$1 == "surprised" && $2 > 0 { ok = 1 } END { exit !ok }' "out/strengths-$m.tsv"
        id=$(awk '$1 == "identity" && $2 == "surprised" { print $NF }' out/score.txt)
        px=$(awk -v m=$m '$1 == m && $2 == "surprised" { print $NF }' out/score.txt)
        (( $(echo "$px > $id + 0.1" | bc) ))
    done
    run "$ROOT/pipelines/emotion-transfer.sh" --out out --pattern '^(p[0-9]+)\.([a-z]+)\.png$' \
        --size 24x24 --emotions happy,sad,surprised --epochs 50 --latent 8 --align 2,3 faces
    refute_output --partial "done in"
    # a changed edit setting reruns the edits that use it, and only those
    run "$ROOT/pipelines/emotion-transfer.sh" --out out --pattern '^(p[0-9]+)\.([a-z]+)\.png$' \
        --size 24x24 --emotions happy,sad,surprised --epochs 50 --latent 8 --align 2,3 --radius 1,5 faces
    assert_success
    assert_line --regexp '^strengths-transfer +done in'
    assert_line --regexp '^strengths-pixel +unchanged, skipped'
    assert_line --regexp '^train +unchanged, skipped'
    run "$ROOT/pipelines/emotion-transfer.sh" --out out --pattern '^(p[0-9]+)\.([a-z]+)\.png$' \
        --size 24x24 --emotions happy,sad,surprised --epochs 50 --latent 8 --align 2,3 --radius 1,5 --no-shrink faces
    assert_line --regexp '^strengths-pixel +done in'
    run "$ROOT/pipelines/emotion-transfer.sh" --model svm faces
    assert_failure 2
    run "$ROOT/pipelines/emotion-transfer.sh" --radius 2 faces
    assert_failure 2
    assert_output "emotion-transfer.sh: --radius: '2' is not R,W (W odd), such as 2,9"
}

@test "fashion-mnist.sh without the dataset says what to install; a bad option exits 2" {
    run "$ROOT/pipelines/fashion-mnist.sh" --out out --data "$BATS_TEST_TMPDIR/none"
    assert_failure 1
    assert_output "fashion-mnist.sh: $BATS_TEST_TMPDIR/none: no Fashion-MNIST IDX files (install dataset-fashion-mnist: make deps)"
    [ ! -e out ]
    run "$ROOT/pipelines/fashion-mnist.sh" --epoch 3
    assert_failure 2
    assert_line --index 0 "fashion-mnist.sh: unknown argument --epoch"
}
