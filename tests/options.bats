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
        run --separate-stderr $cmd --help
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
        run --separate-stderr $cmd -V
        [ "$status" -eq 0 ] || fail "$cmd -V: exit $status"
        [[ $output == "${cmd%% *} (neuro-noodle) "* ]] || fail "$cmd -V: '$output'"
    done < <(commands)
    run nn-split --help=x
    assert_failure 2
    assert_line --index 0 "nn-split: option '--help' takes no argument"
}
