#!/usr/bin/env bats
# nn-vae-train: the loss falls, the same seed gives the same bytes, resume equals an
# uninterrupted run (also after kill -9), the metrics log, early stopping, bad input.

load helper

# 300 structured 8x8 images (IDX pattern: pixel p of item i is (i + p) % 256).
faces() {
    nn-mkimage idx d-images-idx3-ubyte d-labels-idx1-ubyte "${1:-300}" "${2:-8x8}"
    nn-ingest d-images-idx3-ubyte -o d.nns 2>/dev/null
}
small=(--hidden 32 --latent 4 --batch 32)
loss_of() { sed -n "s/^{\"epoch\":$1,\"train_loss\":\([0-9.]*\).*/\1/p" "$2"; }

@test "--help, and bad usage exits 2" {
    run nn-vae-train --help
    assert_success
    assert_line --index 0 "usage: nn-vae-train [OPTION]... -o MODEL [TRAIN]"
    run nn-vae-train x.nns
    assert_failure 2
    assert_line --index 0 "nn-vae-train: no model file: give -o MODEL"
    run nn-vae-train -o m.nns --patience 3 x.nns
    assert_failure 2
    assert_line --index 0 "nn-vae-train: --patience needs --val"
    run nn-vae-train -o m.nns --likelihood poisson x.nns
    assert_failure 2
    run nn-vae-train -o m.nns --betas 0.9 x.nns
    assert_failure 2
}

@test "the training loss falls, and the metrics log has every field" {
    faces
    nn-vae-train d.nns -o m.nns -m log.jsonl --epochs 15 "${small[@]}"
    first=$(loss_of 1 log.jsonl)
    last=$(loss_of 15 log.jsonl)
    awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 1) }'
    run head -1 log.jsonl
    assert_output --partial '"program":"nn-vae-train"'
    assert_output --partial '"options":{"epochs":15,"batch":32,'
    assert_output --partial '"model":{"input_shape":[8,8,1],"hidden":[32],"latent":4,"likelihood":"bernoulli"'
    assert_output --partial '"train_records":300'
    run sed -n 2p log.jsonl
    assert_output --regexp '^\{"epoch":1,"train_loss":[0-9.]+,"recon":[0-9.]+,"kl":[0-9.]+,"val_loss":null,"val_recon":null,"val_kl":null,"beta":1,"lr":0.001,"seconds":[0-9.]+,"best_epoch":1\}$'
    [ "$(wc -l < log.jsonl)" -eq 16 ]
    run nn-cat --info m.nns
    assert_line "kind:     model"
    assert_line "records:  4"
}

@test "the same seed and thread count give the same model bytes; another seed does not" {
    faces
    nn-vae-train d.nns -o a.nns --epochs 3 --seed 5 "${small[@]}"
    nn-vae-train d.nns -o b.nns --epochs 3 --seed 5 "${small[@]}"
    nn-vae-train d.nns -o c.nns --epochs 3 --seed 6 "${small[@]}"
    cmp a.nns b.nns
    ! cmp -s a.nns c.nns
}

@test "the same bytes for the same number of worker threads, whatever their timing" {
    faces
    nn-vae-train d.nns -o a.nns --epochs 3 --threads 3 "${small[@]}" -m log.jsonl
    nn-vae-train d.nns -o b.nns --epochs 3 --threads 3 "${small[@]}"
    nn-vae-train d.nns -o c.nns --epochs 3 --threads 1 "${small[@]}"
    cmp a.nns b.nns
    grep -q '"threads":3,"openblas_threads":1' log.jsonl
    # One worker sums the gradient in another order: close, not equal.
    ! cmp -s a.nns c.nns
}

@test "--resume from a checkpoint ends with the same bytes as an uninterrupted run" {
    faces
    nn-vae-train d.nns -o whole.nns --epochs 6 --val d.nns "${small[@]}" --warmup 3 --beta 0.5
    nn-vae-train d.nns -o part.nns --epochs 2 --val d.nns "${small[@]}" --warmup 3 --beta 0.5 -m log.jsonl
    nn-vae-train d.nns -o part.nns --epochs 6 --val d.nns --resume -m log.jsonl
    cmp whole.nns part.nns
    [ "$(grep -c '"epoch":' log.jsonl)" -eq 6 ]
}

@test "--resume after kill -9 mid-run ends with the same bytes" {
    faces 3000 16x16
    nn-vae-train d.nns -o whole.nns --epochs 30 "${small[@]}"
    nn-vae-train d.nns -o part.nns --epochs 30 "${small[@]}" &
    pid=$!
    for i in $(seq 1 400); do [ -e part.nns ] && break; sleep 0.01; done
    kill -9 $pid 2>/dev/null || true
    wait $pid || true
    epochs=$(nn-cat --info part.nns | grep -o '"epoch":[0-9]*')
    echo "# killed at $epochs" >&3
    nn-vae-train d.nns -o part.nns --resume
    cmp whole.nns part.nns
    [ -z "$(ls -A | grep tmp)" ]
}

@test "large seeds survive --resume" {
    faces
    nn-vae-train d.nns -o whole.nns --epochs 3 --seed 9223372036854775807 "${small[@]}"
    nn-vae-train d.nns -o part.nns --epochs 1 --seed 9223372036854775807 "${small[@]}"
    nn-vae-train d.nns -o part.nns --epochs 3 --resume
    cmp whole.nns part.nns
}

@test "early stopping keeps the best epoch" {
    faces
    run nn-vae-train d.nns -o m.nns --val d.nns --patience 2 --epochs 50 --lr 1e-9 "${small[@]}" -m log.jsonl
    assert_success
    assert_output --regexp "^nn-vae-train: no better validation loss for 2 epochs: stopping after epoch [0-9]+, keeping epoch [0-9]+$"
    best=$(echo "$output" | sed 's/.*keeping epoch //')
    last=$(tail -1 log.jsonl | sed 's/.*"epoch":\([0-9]*\),.*/\1/')
    [ "$last" -eq "$((best + 2))" ]
    cp m.nns stopped.nns
    run nn-vae-train d.nns -o m.nns --resume
    assert_success
    assert_output --regexp "stopped early after epoch [0-9]+ \(no better validation loss for 2 epochs\): nothing to do$"
    cmp m.nns stopped.nns
}

@test "bad input: empty, NaN, out of range, wrong shape on resume; exit 1" {
    nn-mkstream -n 0 --shape 4 > empty.nns
    run nn-vae-train -o m.nns empty.nns
    assert_failure 1
    assert_output "nn-vae-train: empty.nns: the training stream has no records"
    nn-mkstream -n 3 --values nan --shape 4 > nan.nns
    run nn-vae-train -o m.nns nan.nns
    assert_failure 1
    assert_output "nn-vae-train: nan.nns: record 1 (r0000): value 1 is NaN"
    nn-mkstream -n 3 --shape 4 > big.nns
    run nn-vae-train -o m.nns big.nns
    assert_failure 1
    assert_output "nn-vae-train: big.nns: record 2 (r0001): value 2 is 1.001, outside [0, 1] (the decoder's output is a sigmoid: images must be in [0, 1], as nn-ingest writes them)"
    nn-mkstream -n 3 --shape 4 --dtype u8 > u8.nns
    run nn-vae-train -o m.nns u8.nns --likelihood gaussian --epochs 1 "${small[@]}"
    assert_success
    faces
    run nn-vae-train -o m.nns d.nns --resume
    assert_failure 1
    assert_output "nn-vae-train: d.nns: records are 8x8x1, the checkpoint's model takes 4 values"
    run nn-vae-train -o m.nns d.nns --val empty.nns
    assert_failure 1
    assert_output "nn-vae-train: empty.nns: the validation stream has no records"
    run nn-vae-train -o nodir/m.nns d.nns
    assert_failure 1
    assert_output "nn-vae-train: nodir/m.nns: cannot create: No such file or directory"
    run nn-vae-train -o - d.nns
    assert_failure 2
    run nn-vae-train -o m.nns d.nns --val big.nns "${small[@]}"
    assert_failure 1
}

@test "a loss that becomes NaN is an error, and the last good model is left intact" {
    faces
    nn-vae-train d.nns -o m.nns --epochs 2 "${small[@]}"
    cp m.nns good.nns
    run nn-vae-train d.nns -o m.nns --epochs 3 --lr 10 "${small[@]}"
    assert_failure 1
    assert_output --regexp "^nn-vae-train: epoch 1, batch [0-9]+: the loss became (NaN|infinite) \(try a smaller --lr\); no model was written$"
    cmp m.nns good.nns
    [ -z "$(ls -A | grep tmp)" ]
}
