#!/usr/bin/env bats
# -h/--help and -V/--version, which the option parser gives every program (and subcommand).

load helper

# Every program and subcommand, as the words to run it.
commands() {
    local prog
    for prog in "$ROOT"/bin/*; do
        case $(basename "$prog") in
        nn-edit) printf '%s\n' "nn-edit vectors" "nn-edit apply" "nn-edit transfer" ;;
        nn-render) printf '%s\n' "nn-render scatter" "nn-render thumbs" "nn-render grid" \
            "nn-render curves" "nn-render html" "nn-render projector" ;;
        *) basename "$prog" ;;
        esac
    done
}

@test "--help and -h: usage, summary and options on stdout, ending with -h and -V; exit 0" {
    local cmd
    while read -r cmd; do
        run --separate-stderr $cmd --help < /dev/null
        [ "$status" -eq 0 ] || fail "$cmd --help: exit $status"
        [ -z "$stderr" ] || fail "$cmd --help wrote to stderr: $stderr"
        [[ ${lines[0]} == "usage: $cmd "* ]] || fail "$cmd --help: first line '${lines[0]}'"
        [ "${lines[-2]}" = "  -h, --help                 print this help and exit" ] || fail "$cmd --help: no -h line"
        [ "${lines[-1]}" = "  -V, --version              print the version and exit" ] || fail "$cmd --help: no -V line"
        [ "$(cd / && $cmd -h)" = "$output" ] || fail "$cmd -h differs from --help"
    done < <(commands)
}

@test "--version and -V: the program and version on stdout, exit 0; --help=X is a usage error" {
    local cmd
    while read -r cmd; do
        run --separate-stderr $cmd -V < /dev/null
        [ "$status" -eq 0 ] || fail "$cmd -V: exit $status"
        [[ $output == "${cmd%% *} (neuro-noodle) "* ]] || fail "$cmd -V: '$output'"
    done < <(commands)
    run nn-split --help=x
    assert_failure 2
    assert_line --index 0 "nn-split: option '--help' takes no argument"
}

@test "a binary stream, PNG or page is never written to a terminal: usage error, exit 2" {
    command -v script >/dev/null || skip "script (bsdutils) is not installed"
    local cmd what
    while IFS='|' read -r cmd what; do
        run script -qec "$cmd" /dev/null < /dev/null   # script would read the list
        [ "$status" -eq 2 ] || fail "$cmd on a terminal: exit $status"
        [[ $output == *"${cmd%% *}: refusing to write $what to a terminal"* ]] || fail "$cmd: '$output'"
    done <<'LIST'
nn-tsne x.nns|a binary stream
nn-align x.nns|a binary stream
nn-edit vectors x.nns|a binary stream
nn-edit apply -v v.nns x.nns|a binary stream
nn-edit transfer -e e.nns x.nns|a binary stream
nn-encode -m m.nns x.nns|a binary stream
nn-decode -m m.nns x.nns|a binary stream
nn-pca -o - x.nns|a binary stream
nn-ingest dir|a binary stream
nn-split --train - --val v.nns --test t.nns x.nns|a binary stream
nn-farm -w ipc://x x.nns|a binary stream
nn-cat x.nns|a binary stream
nn-render scatter x.nns|a PNG
nn-render thumbs p.nns i.nns|a PNG
nn-render html p.nns|HTML
LIST
}
