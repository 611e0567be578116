#!/usr/bin/env bats
# nn-pca and nn-encode: components against NumPy, projections against one computed here,
# identities kept, VAE outputs, bad input.

load helper

faces() {
    nn-mkimage idx d-images-idx3-ubyte d-labels-idx1-ubyte "${1:-300}" "${2:-8x8}"
    nn-ingest d-images-idx3-ubyte -o d.nns 2>/dev/null
}

@test "--help, and bad usage exits 2" {
    run nn-encode --help
    assert_success
    assert_line --index 0 "usage: nn-encode [OPTION]... -m MODEL [INPUT]"
    run nn-encode x.nns
    assert_failure 2
    assert_line --index 0 "nn-encode: no model: give -m MODEL"
    run nn-pca x.nns
    assert_failure 2
    assert_line --index 0 "nn-pca: no model file: give -o MODEL"
}

@test "nn-pca: components and variances agree with NumPy's SVD; nn-encode projects like NumPy" {
    py=$(python_with_msgpack) || skip "no python3 with numpy"
    nn-mkstream -n 50 --shape 3x4 --values random --seed 3 > x.nns
    run nn-pca x.nns -k 5 -o pca.nns
    assert_success
    assert_output --regexp "^nn-pca: 5 components of 50 records explain [0-9.]+% of the variance$"
    nn-encode -m pca.nns x.nns > z.nns
    nn-cat --to npy x.npy x.nns
    nn-cat --to npy model.npy pca.nns
    nn-cat --to npy z.npy z.nns
    run "$py" -c "
import numpy as np
x = np.load('x.npy').reshape(50, 12).astype(np.float64)
p = np.load('model.npy')[0].astype(np.float64)
mean, comps, var = p[:12], p[12:12 + 60].reshape(5, 12), p[72:]
assert np.allclose(mean, x.mean(0), atol=1e-5)
u, s, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
assert np.allclose(np.abs((comps * vt[:5]).sum(1)), 1, atol=1e-4), (comps * vt[:5]).sum(1)
assert np.allclose(var, s[:5] ** 2 / 49, rtol=1e-4)
z = np.load('z.npy')
assert np.allclose(z, (x - mean) @ comps.T, atol=1e-4)
print('ok')"
    assert_output "ok"
}

@test "nn-pca with fewer records than values uses the Gram matrix, same answer" {
    py=$(python_with_msgpack) || skip "no python3 with numpy"
    nn-mkstream -n 10 --shape 40 --values random --seed 4 > x.nns
    nn-pca -q x.nns -k 4 -o pca.nns
    nn-cat --info pca.nns | grep -q 'Gram matrix'
    nn-cat --to npy x.npy x.nns
    nn-cat --to npy model.npy pca.nns
    run "$py" -c "
import numpy as np
x = np.load('x.npy').astype(np.float64)
p = np.load('model.npy')[0].astype(np.float64)
comps = p[40:40 + 160].reshape(4, 40)
u, s, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
assert np.allclose(np.abs((comps * vt[:4]).sum(1)), 1, atol=1e-4)
print('ok')"
    assert_output "ok"
    run nn-pca x.nns -k 10 -o pca.nns
    assert_failure 1
    assert_output "nn-pca: x.nns: --components 10 is more than 10 records of 40 values can give (9)"
}

@test "nn-encode keeps ids, labels and groups in order, and streams from a pipe" {
    faces 700
    nn-vae-train d.nns -o vae.nns --epochs 1 --hidden 16 --latent 3
    cat d.nns | nn-encode -m vae.nns --batch 64 > z.nns
    run nn-cat --info z.nns
    assert_line "kind:     latent"
    assert_line "shape:    3 (3 values, 12 bytes a record)"
    assert_line "records:  700"
    diff <(nn-cat --json d.nns | cut -d, -f1-3) <(nn-cat --json z.nns | cut -d, -f1-3)
}

@test "nn-encode: mu is the same whatever the batch; logvar differs; samples follow the seed" {
    faces
    nn-vae-train d.nns -o vae.nns --epochs 2 --hidden 16 --latent 3
    nn-encode -m vae.nns d.nns --batch 7 > a.nns
    nn-encode -m vae.nns d.nns --batch 300 > b.nns
    nn-encode -m vae.nns d.nns --batch 300 > b2.nns
    cmp b.nns b2.nns
    # Other batch sizes block the matrix products differently: equal to float rounding.
    if py=$(python_with_msgpack); then
        nn-cat --to npy a.npy a.nns
        nn-cat --to npy b.npy b.nns
        "$py" -c "import numpy as np; assert np.allclose(np.load('a.npy'), np.load('b.npy'), atol=1e-5)"
    fi
    nn-encode -m vae.nns d.nns --emit logvar > lv.nns
    ! cmp -s <(nn-cat --json --data a.nns) <(nn-cat --json --data lv.nns)
    nn-encode -m vae.nns d.nns --emit sample --seed 1 > s1.nns
    nn-encode -m vae.nns d.nns --emit sample --seed 1 > s1b.nns
    nn-encode -m vae.nns d.nns --emit sample --seed 2 > s2.nns
    cmp s1.nns s1b.nns
    ! cmp -s <(nn-cat --json --data s1.nns) <(nn-cat --json --data s2.nns)
    nn-cat --info lv.nns | grep -q '"emit":"logvar"'
}

@test "u8 images are scaled by 1/255, like nn-ingest's f32" {
    faces
    nn-ingest d-images-idx3-ubyte --dtype u8 -o u.nns 2>/dev/null
    nn-pca -q d.nns -k 3 -o pca.nns
    cmp <(nn-encode -m pca.nns d.nns | nn-cat --json --data) <(nn-encode -m pca.nns u.nns | nn-cat --json --data)
}

@test "bad input: a stream the model cannot take, a file that is not a model" {
    faces
    nn-pca -q d.nns -k 3 -o pca.nns
    nn-mkstream -n 3 --shape 4x4 > other.nns
    run nn-encode -m pca.nns other.nns
    assert_failure 1
    assert_output "nn-encode: other.nns: header: records do not fit the model pca.nns, which takes 8x8x1"
    run nn-encode -m other.nns d.nns
    assert_failure 1
    assert_output "nn-encode: other.nns: not a model file (kind 'image')"
    run nn-encode -m pca.nns --emit sample d.nns
    assert_failure 2
    assert_line --index 0 "nn-encode: --emit sample needs a VAE; pca.nns is a PCA model"
    head -c 500 pca.nns > cut.nns
    run nn-encode -m cut.nns d.nns
    assert_failure 1
    assert_output --regexp "^nn-encode: cut.nns: .*truncated"
    nn-mkstream -n 1 --shape 8x8x1 --values nan > nan.nns
    run nn-pca nan.nns -o p.nns
    assert_failure 1
    assert_output "nn-pca: nan.nns: record 1 (r0000): value 1 is NaN"
}

@test "nn-decode: PCA with every component gives the images back; VAE images are in [0, 1]" {
    py=$(python_with_msgpack) || skip "no python3 with numpy"
    faces 40 4x4
    nn-pca -q d.nns -k 16 -o pca.nns
    nn-encode -m pca.nns d.nns | nn-decode -m pca.nns > back.nns
    run nn-cat --info back.nns
    assert_line "kind:     image"
    assert_line "shape:    4x4x1 (16 values, 64 bytes a record)"
    diff <(nn-cat --json d.nns | cut -d, -f1-3) <(nn-cat --json back.nns | cut -d, -f1-3)
    nn-cat --to npy a.npy d.nns
    nn-cat --to npy b.npy back.nns
    "$py" -c "import numpy as np; assert np.allclose(np.load('a.npy'), np.load('b.npy'), atol=1e-4)"
    nn-vae-train d.nns -o vae.nns --epochs 1 --hidden 8 --latent 2
    nn-encode -m vae.nns d.nns | nn-decode -m vae.nns > v.nns
    nn-cat --to npy v.npy v.nns
    "$py" -c "import numpy as np; v = np.load('v.npy'); assert v.shape == (40, 4, 4, 1) and v.min() >= 0 and v.max() <= 1"
}

@test "nn-decode: latents of the wrong size are an error" {
    faces 40 4x4
    nn-pca -q d.nns -k 3 -o pca.nns
    nn-mkstream -n 2 --shape 5 > z.nns
    run nn-decode -m pca.nns z.nns
    assert_failure 1
    assert_output "nn-decode: z.nns: header: records are 5 f32 values, the model pca.nns decodes 3 f32 values"
}

@test "nn-decode --sample: N faces from the prior, the same for the same seed; a PCA model has no prior" {
    nn-mkfaces -n 3 > f.nns
    nn-vae-train -o m.nnm --hidden 16 --latent 3 -e 1 -t 1 f.nns 2>/dev/null
    nn-decode -m m.nnm --sample 5 --seed 7 > a.nns
    nn-decode -m m.nnm --sample 5 --seed 7 > b.nns
    cmp a.nns b.nns
    diff <(nn-cat --json --data a.nns) <(nn-decode -m m.nnm --sample 5 | nn-cat --json --data) && fail "seed ignored"
    run nn-cat --json a.nns
    assert_equal "${#lines[@]}" 5
    assert_line --index 4 '{"id":"sample000005","label":"prior","group":"","shape":[24,24,1]}'
    nn-pca -k 2 -o pca.nns f.nns 2>/dev/null
    run nn-decode -m pca.nns --sample 2 -o d.nns
    assert_failure 1
    assert_output "nn-decode: pca.nns: --sample needs a VAE (a PCA model has no prior)"
    run nn-decode -m m.nnm --sample 2 f.nns
    assert_failure 2
}
