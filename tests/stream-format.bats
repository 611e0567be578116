#!/usr/bin/env bats
# The format as documented: the Python reader printed in nn-stream(5) reads our streams.

load helper

@test "the Python reader in nn-stream(5) reads a stream and its values" {
    py=$(python_with_msgpack) || skip "python3-msgpack and python3-numpy are not installed"
    sed -n '/^\.\\" BEGIN python-reader/,/^\.\\" END python-reader/p' \
        "$ROOT/man/man5/nn-stream.5" | grep -v '^\.' > reader.py
    [ "$(wc -l < reader.py)" -ge 8 ]
    cat >> reader.py <<'PY'
assert header['kind'] == 'image' and header['dtype'] == 'f32' and header['shape'] == [3, 2]
for i, (rid, label, group, x) in enumerate(records):
    want = np.array([i + j / 1000 for j in range(6)], dtype='<f4').reshape(3, 2)
    assert x.shape == (3, 2) and np.array_equal(x, want), (i, x)
print(len(records), records[4][0], records[4][1], records[4][2])
PY
    nn-mkstream -n 5 --shape 3x2 --labels happy,sad --groups s01,s02 | nn-cat > s.nns
    run "$py" reader.py s.nns
    assert_success
    assert_output "5 r0004 happy s01"
    # A truncated stream is an error for the documented reader too.
    head -c 200 s.nns > t.nns
    run "$py" reader.py t.nns
    assert_failure
}

@test "a stream starts with the documented magic bytes" {
    nn-mkstream -n 1 | nn-cat > s.nns
    run od -An -tx1 -N 11 s.nns
    assert_output " 85 a9 6e 6e 2d 73 74 72 65 61 6d"
}
