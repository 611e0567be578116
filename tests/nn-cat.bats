#!/usr/bin/env bats
# nn-cat: concatenation, --info, --json, --head, --filter, --to npy, and every bad input.

load helper

mk() { nn-mkstream "$@"; }

@test "--help prints usage to stdout and exits 0; --version too" {
    run --separate-stderr nn-cat --help
    assert_success
    assert_line --index 0 "usage: nn-cat [OPTION]... [FILE]..."
    assert_output --partial "--filter FIELD=VALUE"
    [ -z "$stderr" ]
    run nn-cat --version
    assert_success
    assert_output --regexp '^nn-cat \(neuro-noodle\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "bad usage exits 2 with the reason and a usage line" {
    run --separate-stderr nn-cat --bogus
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = "nn-cat: unknown option '--bogus'" ]
    [ "${stderr_lines[1]}" = "usage: nn-cat [OPTION]... [FILE]..." ]
    run nn-cat --head
    [ "$status" -eq 2 ]
    assert_line --index 0 "nn-cat: option '--head' needs an argument N"
    run nn-cat --head -3 x
    [ "$status" -eq 2 ]
    assert_line --index 0 "nn-cat: --head: '-3' is not an integer in [0, 4611686018427387904]"
    run nn-cat --filter colour=red x
    [ "$status" -eq 2 ]
    assert_line --index 0 "nn-cat: --filter: 'colour=red' is not FIELD=VALUE with FIELD id, label or group"
    run nn-cat --to csv out x
    [ "$status" -eq 2 ]
    assert_line --index 0 "nn-cat: --to: unknown format 'csv' (known: npy)"
    run nn-cat --json --info x
    [ "$status" -eq 2 ]
    run nn-cat --data x
    [ "$status" -eq 2 ]
    assert_line --index 0 "nn-cat: --data needs --json"
    run nn-cat - -
    [ "$status" -eq 2 ]
    assert_line --index 0 "nn-cat: standard input (-) can be read only once"
}

@test "--info prints the header, the record count and the counts per label" {
    mk -n 5 --labels happy,sad --groups s01,s02 --meta program=test > a.nns
    run nn-cat --info a.nns
    assert_success
    assert_output "inputs:   a.nns
format:   nn-stream version 1
kind:     image
dtype:    f32
shape:    2x2 (4 values, 16 bytes a record)
meta:     {\"program\":\"test\"}
streams:  1
records:  5
groups:   2
labels:   2
           3  happy
           2  sad"
}

@test "--json prints one object per record; --data adds the values" {
    mk -n 2 --labels happy --groups 's"1' > a.nns
    run nn-cat --json a.nns
    assert_success
    assert_output '{"id":"r0000","label":"happy","group":"s\"1","shape":[2,2]}
{"id":"r0001","label":"happy","group":"s\"1","shape":[2,2]}'
    run nn-cat --json --data a.nns
    assert_line --index 1 '{"id":"r0001","label":"happy","group":"s\"1","shape":[2,2],"data":[1,1.00100005,1.00199997,1.00300002]}'
    mk -n 1 --dtype u8 --shape 3 > u.nns
    run nn-cat --json --data u.nns
    assert_output '{"id":"r0000","label":"a","group":"g","shape":[3],"data":[0,1,2]}'
}

@test "NaN and infinity print as JSON null" {
    mk -n 1 --values nan --shape 2 > n.nns
    run nn-cat --json --data n.nns
    assert_output '{"id":"r0000","label":"a","group":"g","shape":[2],"data":[null,0.00100000005]}'
}

@test "concatenating streams: files, stdin, and streams back to back in one input" {
    mk -n 3 > a.nns
    mk -n 4 > b.nns
    nn-cat a.nns - b.nns < b.nns > c.nns
    run nn-cat --info c.nns
    assert_line "records:  11"
    cat a.nns b.nns | nn-cat > d.nns
    run nn-cat --info d.nns
    assert_line "records:  7"
    run nn-cat --info a.nns b.nns
    assert_line "streams:  2"
    # Our output is canonical: passing it through again changes no byte.
    nn-cat d.nns > e.nns
    cmp d.nns e.nns
}

@test "concatenating streams whose headers disagree fails before writing anything" {
    mk -n 3 > a.nns
    mk -n 3 --shape 3 > b.nns
    mk -n 3 --dtype u8 > c.nns
    mk -n 3 --kind latent > k.nns
    run nn-cat -o out.nns a.nns b.nns
    assert_failure 1
    assert_output "nn-cat: b.nns: header: shape 3 differs from 2x2 of a.nns (streams to concatenate must agree)"
    [ ! -e out.nns ]
    [ -z "$(ls -A | grep -v '\.nns$')" ]
    run nn-cat a.nns c.nns
    assert_failure 1
    assert_output "nn-cat: c.nns: header: dtype u8 differs from f32 of a.nns (streams to concatenate must agree)"
    run nn-cat a.nns k.nns
    assert_output "nn-cat: k.nns: header: kind 'latent' differs from 'image' of a.nns (streams to concatenate must agree)"
    cat a.nns b.nns > ab.nns
    run nn-cat --info ab.nns
    assert_failure 1
    assert_output "nn-cat: ab.nns: stream 2: header: shape 3 differs from 2x2 of ab.nns (streams to concatenate must agree)"
}

@test "--head N keeps the first N records and ends the stream properly" {
    mk -n 10 > a.nns
    nn-cat --head 4 a.nns > h.nns
    run nn-cat --json h.nns
    assert_success
    [ "${#lines[@]}" -eq 4 ]
    assert_line --index 3 --partial '"id":"r0003"'
    run nn-cat -n 0 --info a.nns
    assert_line "records:  0"
    run nn-cat --head 100 --info a.nns
    assert_line "records:  10"
}

@test "--filter: the same field matches any value, different fields must all match" {
    mk -n 8 --labels happy,sad,wink,normal --groups s01,s02 > a.nns
    run nn-cat --json --filter label=sad a.nns
    assert_output '{"id":"r0001","label":"sad","group":"s01","shape":[2,2]}
{"id":"r0005","label":"sad","group":"s02","shape":[2,2]}'
    run nn-cat --json --filter label=sad -f label=wink --filter group=s02 a.nns
    assert_output '{"id":"r0005","label":"sad","group":"s02","shape":[2,2]}
{"id":"r0006","label":"wink","group":"s02","shape":[2,2]}'
    run nn-cat --json --filter id=r0007 --head 5 a.nns
    assert_output '{"id":"r0007","label":"normal","group":"s02","shape":[2,2]}'
    run nn-cat --info --filter label=nobody a.nns
    assert_line "records:  0"
}

@test "--to npy writes the array and a TSV of id, label and group beside it" {
    mk -n 3 --shape 2x3 --labels 'a	b,c' --groups 'g\1' > a.nns
    run nn-cat --to npy out.npy a.nns
    assert_success
    [ -z "$output" ]
    run cat out.tsv
    assert_output 'id	label	group
r0000	a\tb	g\\1
r0001	c	g\\1
r0002	a\tb	g\\1'
    # Header: magic, version 1.0, the shape with the record count, data 64-byte aligned.
    run od -An -c -N 8 out.npy
    assert_output --partial "223   N   U   M   P   Y 001  \\0"
    head -c 128 out.npy | tail -c +11 | grep -q "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2, 3), }"
    [ "$(stat -c %s out.npy)" -eq $((128 + 3 * 24)) ]
    py=$(python_with_msgpack) || skip "no python3 with numpy"
    run "$py" -c "import numpy as np; a = np.load('out.npy'); print(a.shape, a.dtype, a[2, 1, 2])"
    assert_output "(3, 2, 3) float32 2.005"
}

@test "bad input: each case names the file and the record, exits 1" {
    mk -n 20 > good.nns
    head -c 300 good.nns > truncated.nns
    printf 'hello, world\n' > text.txt
    mk -n 3 --stream-version 2 > future.nns
    mk -n 20 --tensor-bytes 12 > size.nns
    mk -n 17 --no-trailer > notrailer.nns
    mk -n 3 --trailer-count 4 > count.nns
    mk -n 3 --array-len 5 > array.nns
    : > empty.nns
    run nn-cat --info truncated.nns
    assert_failure 1
    assert_output "nn-cat: truncated.nns: record 9: truncated in the middle of the record"
    run nn-cat --info text.txt
    assert_failure 1
    assert_output "nn-cat: text.txt: not an nn-stream (bad magic: no header map starting with key 'nn-stream')"
    run nn-cat --info future.nns
    assert_failure 1
    assert_output "nn-cat: future.nns: header: stream version 2 is newer than this program supports (1)"
    run nn-cat --info size.nns
    assert_failure 1
    assert_output "nn-cat: size.nns: record 1: tensor has 12 bytes, the header says 16 (2x2 f32)"
    run nn-cat --info notrailer.nns
    assert_failure 1
    assert_output "nn-cat: notrailer.nns: record 18: truncated stream: input ends after 17 records with no trailer"
    run nn-cat --info count.nns
    assert_failure 1
    assert_output "nn-cat: count.nns: trailer: says 4 records, the stream has 3"
    run nn-cat --info array.nns
    assert_failure 1
    assert_output "nn-cat: array.nns: record 1: a record is an array of 4 (id, label, group, tensor), not of 5"
    run nn-cat --info empty.nns
    assert_failure 1
    assert_output "nn-cat: empty.nns: empty input: not an nn-stream"
    run nn-cat --info missing.nns
    assert_failure 1
    assert_output "nn-cat: missing.nns: cannot open: No such file or directory"
    run nn-cat --info - < truncated.nns
    assert_output "nn-cat: -: record 9: truncated in the middle of the record"
}

@test "a failed run leaves no output file and no temporary file behind" {
    mk -n 20 > good.nns
    head -c 300 good.nns > truncated.nns
    run nn-cat -o out.nns good.nns truncated.nns
    assert_failure 1
    [ ! -e out.nns ]
    [ "$(ls -A | sort | tr '\n' ' ')" = "good.nns truncated.nns " ]
    run nn-cat --to npy out.npy truncated.nns
    assert_failure 1
    [ "$(ls -A | sort | tr '\n' ' ')" = "good.nns truncated.nns " ]
    run nn-cat --to npy /dev/null good.nns
    assert_failure 1
    assert_output "nn-cat: /dev/null: .npy output needs a regular file (its header is rewritten at the end)"
    [ ! -e /dev/null.tsv ]
}

@test "records in the second stream of an input are named by stream" {
    nn-mkstream -n 2 > a.nns
    nn-mkstream -n 20 > b.nns
    cat a.nns b.nns | head -c 500 > ab.nns
    run nn-cat --info ab.nns
    assert_failure 1
    assert_output --regexp "^nn-cat: ab.nns: stream 2: record [0-9]+: truncated"
}

@test "ids that are not valid UTF-8 still give valid JSON" {
    py=$(python_with_msgpack) || skip "no python3 with msgpack"
    # The id is the raw bytes ff c3 a9: one invalid byte, then a valid "é".
    "$py" -c "
import msgpack, sys
out = sys.stdout.buffer
out.write(msgpack.packb({'nn-stream': 1, 'kind': 'x', 'dtype': 'u8', 'shape': [1]}))
out.write(bytes([0x94, 0xa3, 0xff, 0xc3, 0xa9]) + msgpack.packb('caf' + chr(0xe9)) + msgpack.packb('') + msgpack.packb(bytes(1)))
out.write(msgpack.packb({'records': 1}))" > s.nns
    run nn-cat --json s.nns
    assert_success
    run "$py" -c "import json, sys; r = json.loads(sys.stdin.read()); print([hex(ord(c)) for c in r['id']], r['label'] == 'caf' + chr(0xe9))" <<< "$output"
    assert_output "['0xfffd', '0xe9'] True"
}

@test "a truncated stream passed through the pipe stays an error downstream" {
    mk -n 400 --shape 784 > good.nns
    run bash -c 'head -c 1000000 good.nns | nn-cat | nn-cat --info'
    assert_failure 1
    assert_line "nn-cat: -: record 318: truncated in the middle of the record"
    assert_line --regexp "^nn-cat: -: record [0-9]+: truncated"
    [ "${#lines[@]}" -eq 2 ]
}

@test "write errors are reported: full disk, closed pipe" {
    mk -n 3 > a.nns
    run nn-cat a.nns -o /dev/full
    assert_failure 1
    assert_output "nn-cat: /dev/full: write error: No space left on device"
    run bash -c 'nn-cat a.nns > /dev/full'
    assert_failure 1
    assert_output "nn-cat: stdout: write error: No space left on device"
    run bash -c 'nn-cat --json a.nns > /dev/full'
    assert_failure 1
    assert_output "nn-cat: stdout: write error: No space left on device"
    mk -n 20000 --shape 784 > big.nns
    run bash -c 'nn-cat big.nns | head -c 10 > /dev/null; echo "status ${PIPESTATUS[0]}"'
    assert_line "nn-cat: stdout: write error: Broken pipe"
    assert_line "status 1"
}

@test "output to a file is atomic and keeps the usual permissions" {
    mk -n 3 > a.nns
    umask 022
    nn-cat -o out.nns a.nns
    [ "$(stat -c %a out.nns)" = 644 ]
    nn-cat out.nns | cmp - out.nns
}

@test "deeply nested non-string keys in meta print in linear size (found by the fuzzer)" {
    run nn-cat --info "$ROOT/fuzz/repro/oom-meta-nested-keys"
    assert_success
    [ "${#output}" -lt 2000 ]
    assert_line --regexp '^meta:     \{"\{\{\{.*null:null\}:null.*\}":null\}$'
}
