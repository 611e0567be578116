#!/usr/bin/env bats
# Every program has a man page, the format has its page, and mandoc -Tlint finds nothing.

load helper

@test "every program in bin/ has a man page in section 1" {
    for prog in "$ROOT"/bin/*; do
        [ -f "$ROOT/man/man1/$(basename "$prog").1" ] || fail "no man page for $(basename "$prog")"
    done
    [ -f "$ROOT/man/man5/nn-stream.5" ]
}

@test "mandoc -Tlint finds no warning or error on any page (STYLE notes about pages not yet installed aside)" {
    command -v mandoc >/dev/null || skip "mandoc is not installed"
    run mandoc -Tlint -W warning "$ROOT"/man/man*/*.[0-9]
    assert_success
    assert_output ""
}
