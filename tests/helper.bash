# Shared setup for the Bats tests: the built programs first on PATH, a scratch directory.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PATH="${NN_TEST_PATH:+$NN_TEST_PATH:}$ROOT/bin:$ROOT/tests/bin:$PATH"
export OPENBLAS_NUM_THREADS=1

setup() {
    cd "$BATS_TEST_TMPDIR" || exit 1
}

# A python3 with msgpack and numpy (Debian's python3-msgpack, python3-numpy), or nothing.
python_with_msgpack() {
    local py
    for py in /usr/bin/python3 python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import msgpack, numpy' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    return 1
}
