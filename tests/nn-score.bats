#!/usr/bin/env bats
# nn-score: MSE, PSNR and SSIM against values computed by hand, registration, matching by group
# and label, baselines, and the end-to-end emotion transfer on drawn faces.

load helper

# 3x3 images: p1's normal photo, p1's real happy photo, and a prediction of it.
tiny() {
    echo "0.5 0.5 0.5 0.5 0.5 0.5 0.5 0.5 0.5  0.2 0.2 0.1 0.5 0.4 0.6 0.9 0.6 0.8" |
        nn-mkstream --values stdin --shape 3x3 -n 2 --labels normal,happy --groups p1 > real.nns
    echo "0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9" |
        nn-mkstream --values stdin --shape 3x3 -n 1 --labels happy --groups p1 > pred.nns
}

field() {   # field METHOD LABEL KEY < json
    python3 -c "import json,sys; d=json.load(sys.stdin); m=[m for m in d['methods'] if m['name']=='$1'][0]; \
print('%.5f' % (m['all'] if '$2'=='all' else m['labels']['$2'])['$3'])"
}

@test "--help, and bad usage exits 2" {
    run nn-score --help
    assert_success
    assert_line --index 0 "usage: nn-score --real FILE [OPTION]... [[NAME=]PREDICTIONS]..."
    run nn-score pred.nns
    assert_failure 2
    assert_line --index 0 "nn-score: no real photos: give --real FILE"
    run nn-score --real r.nns --window 4
    assert_failure 2
    assert_line --index 0 "nn-score: --window: 4 is not odd"
}

@test "MSE, PSNR and SSIM of a 3x3 prediction equal the values computed by hand" {
    tiny
    # by hand: mse = sum((a-b)^2)/9 = 0.16/9; psnr = -10 log10(mse);
    # ssim with one 3x3 window, sample covariance, C1 = 1e-4, C2 = 9e-4 = 0.8718818
    run nn-score --real real.nns --shift 0 --window 3 --json my=pred.nns
    assert_success
    assert_equal "$(field my happy mse <<<"$output")" 0.01778
    assert_equal "$(field my happy psnr <<<"$output")" 17.50123
    assert_equal "$(field my happy ssim <<<"$output")" 0.87188
    assert_equal "$(field my happy reg_ssim <<<"$output")" 0.87188
    # identity: the flat 0.5 photo against the happy one: (.09+.09+.16+0+.01+.01+.16+.01+.09)/9
    assert_equal "$(field identity happy mse <<<"$output")" 0.06889
}

@test "an image scored against itself: SSIM 1, MSE 0, PSNR capped at 100" {
    nn-mkfaces -n 2 > f.nns
    nn-cat --filter label=happy f.nns > same.nns
    run nn-score --real f.nns --json same.nns
    assert_success
    assert_equal "$(field same all ssim <<<"$output")" 1.00000
    assert_equal "$(field same all reg_ssim <<<"$output")" 1.00000
    assert_equal "$(field same all mse <<<"$output")" 0.00000
    assert_equal "$(field same all psnr <<<"$output")" 100.00000
    run nn-score --real f.nns same.nns
    assert_line --regexp '^same +happy +2 +0\.00000 +100\.000 +1\.0000 +0\.00000 +100\.000 +1\.0000$'
}

@test "registration recovers a known shift: the shifted photo scores exactly like its original" {
    # a 12x12 pattern and the same pattern moved down 1 and right 2 (wrapping)
    awk 'BEGIN { s = 7; for (i = 0; i < 144; i++) { s = (s * 1103515245 + 12345) % 2147483648; v[i] = (s % 1000) / 1000 }
                 for (i = 0; i < 144; i++) printf "%s ", v[i]
                 for (y = 0; y < 12; y++) for (x = 0; x < 12; x++) printf "%s ", v[((y + 11) % 12) * 12 + (x + 10) % 12] }' |
        nn-mkstream --values stdin --shape 12x12 -n 2 --labels normal,happy --groups p1 > real.nns
    run nn-score --real real.nns --shift 3 --window 3 --json
    assert_success
    assert_equal "$(field identity happy reg_mse <<<"$output")" 0.00000
    assert_equal "$(field identity happy reg_ssim <<<"$output")" 1.00000
    (( $(echo "$(field identity happy mse <<<"$output") > 0.05" | bc) ))
    # a shift beyond the search radius is not recovered
    run nn-score --real real.nns --shift 1 --window 3 --json
    (( $(echo "$(field identity happy reg_mse <<<"$output") > 0.01" | bc) ))
}

@test "predictions are matched by group and label; a missing photo or a second prediction is an error" {
    tiny
    echo "0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9" |
        nn-mkstream --values stdin --shape 3x3 -n 1 --labels happy --groups p2 > other.nns
    run nn-score --real real.nns --shift 0 --window 3 other.nns
    assert_failure 1
    assert_output "nn-score: other.nns: record 1 (r0000): no real photo of group 'p2' with label 'happy' in real.nns"
    nn-cat pred.nns pred.nns > twice.nns
    run nn-score --real real.nns --shift 0 --window 3 twice.nns
    assert_failure 1
    assert_output --partial "twice.nns: record 2 (r0000): a second prediction for group 'p1', label 'happy'"
    nn-mkstream --shape 4x4 -n 1 --labels happy --groups p1 > wide.nns
    run nn-score --real real.nns --shift 0 --window 3 wide.nns
    assert_failure 1
    assert_output "nn-score: wide.nns: header: records are 16 values, the real photos 9"
    run nn-score --real real.nns pred.nns
    assert_failure 1
    assert_output "nn-score: real.nns: images of 3x3 are too small for --shift 4 and --window 7"
}

@test "the pixel-offset baseline adds the training persons' mean change" {
    tiny
    # training: q1 normal all 0.2, happy all 0.3: the offset is +0.1 everywhere
    echo "$(printf '0.2 %.0s' {1..9}) $(printf '0.3 %.0s' {1..9})" |
        nn-mkstream --values stdin --shape 3x3 -n 2 --labels normal,happy --groups q1 > train.nns
    run nn-score --real real.nns --train train.nns --shift 0 --window 3 --json
    assert_success
    # (0.6 - b)^2 over p1's happy photo: 0.16+0.16+0.25+0.01+0.04+0+0.09+0+0.04 = 0.75
    assert_equal "$(field pixel-offset happy mse <<<"$output")" 0.08333
}

@test "end to end on drawn faces: the edited face moves towards the real emotion" {
    nn-mkfaces -n 12 > f.nns
    nn-split --by group --holdout p01,p02 --ratios 1,0,0 --train train.nns --test test.nns f.nns 2>/dev/null
    nn-vae-train -o m.nnm --hidden 128 --latent 8 -e 1000 -b 8 -t 1 --seed 1 train.nns 2>/dev/null
    nn-encode -m m.nnm train.nns | nn-edit vectors -o v.nns 2>/dev/null
    nn-edit apply -v v.nns -m m.nnm --mode residual test.nns -o residual.nns
    run nn-score --real test.nns --json residual.nns --panel panel.nns
    assert_success
    # the open mouth of 'surprised' is the largest drawn change: the edit must get closer to it
    id=$(field identity surprised reg_mse <<<"$output")
    ed=$(field residual surprised reg_mse <<<"$output")
    (( $(echo "$ed < 0.8 * $id" | bc) ))
    ids=$(field identity surprised reg_ssim <<<"$output")
    eds=$(field residual surprised reg_ssim <<<"$output")
    (( $(echo "$eds > $ids + 0.05" | bc) ))
    # the panel: per person, normal, then real and predicted for each emotion
    run nn-cat --json panel.nns
    assert_equal "${#lines[@]}" 14
    assert_line --index 0 --partial '"label":"normal","group":"p01"'
    assert_line --index 1 --partial '"label":"happy","group":"p01"'
    assert_line --index 2 --partial '"label":"happy: residual","group":"p01"'
}
