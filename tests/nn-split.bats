#!/usr/bin/env bats
# nn-split: ratios, seeds, order independence, whole groups, stratification, hold-out.

load helper

ids() { nn-cat --json "$1" | sed 's/.*"id":"\([^"]*\)".*/\1/' | sort | tr '\n' ' '; }
groups_of() { nn-cat --json "$1" | sed 's/.*"group":"\([^"]*\)".*/\1/' | sort -u | tr '\n' ' '; }

@test "--help, and bad usage exits 2" {
    run nn-split --help
    assert_success
    assert_line --index 0 "usage: nn-split [OPTION]... [INPUT]"
    run nn-split x.nns
    assert_failure 2
    assert_line --index 0 "nn-split: no output: give --train, --val and/or --test"
    run nn-split --train a --test b x.nns
    assert_failure 2
    assert_line --index 0 "nn-split: the val share is 0.1 but --val is not given (set its ratio to 0 to drop it)"
    run nn-split --ratios 0,0 --train a x.nns
    assert_failure 2
    assert_line --index 0 "nn-split: --ratios: '0,0' has no positive share"
    run nn-split --ratios 0.5,,0.5 --train a x.nns
    assert_failure 2
    assert_line --index 0 "nn-split: --ratios: '' is not a number in [0, 1e+09]"
    run nn-split --train a.nns --val a.nns --test c.nns x.nns
    assert_failure 2
    assert_line --index 0 "nn-split: --train and --val name the same output 'a.nns'"
    run nn-split --by person --train a x.nns
    assert_failure 2
    run nn-split --by group --stratify --train a --val b --test c x.nns
    assert_failure 2
    assert_line --index 0 "nn-split: --stratify and --by group cannot both hold exactly: choose one"
}

@test "the ratios are met exactly when the records allow, and nothing is lost" {
    nn-mkstream -n 100 --labels a,b,c,d > s.nns
    run nn-split s.nns --train tr.nns --val va.nns --test te.nns
    assert_success
    assert_line --index 0 --regexp "^nn-split: train +80 records"
    assert_line --index 1 --regexp "^nn-split: val +10 records"
    assert_line --index 2 --regexp "^nn-split: test +10 records"
    [ "$(cat <(ids tr.nns) <(ids va.nns) <(ids te.nns) | tr ' ' '\n' | grep -c .)" -eq 100 ]
    [ "$(cat <(ids tr.nns) <(ids va.nns) <(ids te.nns) | tr ' ' '\n' | grep . | sort -u | wc -l)" -eq 100 ]
    run nn-split s.nns --ratios 0.5,0,0.5 --train tr.nns --test te.nns -q
    assert_success
    [ "$(nn-cat --info te.nns | grep records:)" = "records:  50" ]
}

@test "the same seed gives the same split whatever the record order; another seed differs" {
    nn-mkstream -n 60 --labels a,b,c > s.nns
    nn-split -q s.nns --seed 7 --train a1.nns --val b1.nns --test c1.nns
    # The same records in reverse order, through a pipe.
    for i in $(seq 59 -1 0); do nn-cat --filter id=$(printf 'r%04d' $i) s.nns; done | nn-cat > rev.nns
    cat rev.nns | nn-split -q --seed 7 --train a2.nns --val b2.nns --test c2.nns
    [ "$(ids a1.nns)" = "$(ids a2.nns)" ]
    [ "$(ids c1.nns)" = "$(ids c2.nns)" ]
    nn-split -q s.nns --seed 8 --train a3.nns --val b3.nns --test c3.nns
    [ "$(ids a1.nns)" != "$(ids a3.nns)" ]
    # The records' bytes are the same too (the header differs only by the command line).
    nn-split -q s.nns --seed 7 --train a4.nns --val b4.nns --test c4.nns
    cmp <(nn-cat --json --data a1.nns) <(nn-cat --json --data a4.nns)
    # The same command again gives the same bytes, header included.
    mkdir again && cd again && cp ../s.nns .
    nn-split -q s.nns --seed 7 --train a1.nns --val b1.nns --test c1.nns
    cmp a1.nns ../a1.nns && cmp c1.nns ../c1.nns
}

@test "--by group keeps every person in one split" {
    nn-mkstream -n 120 --labels happy,sad,normal --groups s01,s02,s03,s04,s05,s06,s07,s08,s09,s10 > s.nns
    run nn-split s.nns --by group --train tr.nns --val va.nns --test te.nns
    assert_success
    assert_line --index 0 --regexp "^nn-split: train +96 records +8 groups"
    assert_line --index 1 --regexp "^nn-split: val +12 records +1 groups"
    all="$(groups_of tr.nns)$(groups_of va.nns)$(groups_of te.nns)"
    [ "$(echo $all | tr ' ' '\n' | sort | uniq -d)" = "" ]
    [ "$(echo $all | wc -w)" -eq 10 ]
}

@test "--stratify keeps the label proportions in each split" {
    nn-mkstream -n 200 --labels a,a,a,b > s.nns
    run nn-split s.nns --stratify --train tr.nns --val va.nns --test te.nns
    assert_success
    assert_line --index 0 "nn-split: train    160 records     1 groups  a 120, b 40"
    assert_line --index 1 "nn-split: val       20 records     1 groups  a 15, b 5"
    assert_line --index 2 "nn-split: test      20 records     1 groups  a 15, b 5"
}

@test "--holdout sends the named groups to test and splits the rest" {
    nn-mkstream -n 40 --labels x,y --groups g1,g2,g3,g4 > s.nns
    run nn-split s.nns --by group --holdout g2,g4 --ratios 1,0,0 --train tr.nns --test te.nns
    assert_success
    [ "$(groups_of te.nns)" = "g2 g4 " ]
    [ "$(groups_of tr.nns)" = "g1 g3 " ]
    run --separate-stderr nn-split s.nns --by group --holdout g9 --ratios 1,0,0 --train tr.nns --test te.nns
    assert_success
    [ "${stderr_lines[0]}" = "nn-split: --holdout: no record has group 'g9'" ]
}

@test "--streaming assigns record by record with the same hash, order-independent" {
    nn-mkstream -n 2000 > s.nns
    run nn-split s.nns --streaming --train tr.nns --val va.nns --test te.nns
    assert_success
    n=$(nn-cat --info tr.nns | sed -n 's/^records: *//p')
    [ "$n" -gt 1500 ] && [ "$n" -lt 1700 ]
    nn-split -q --streaming --train tr2.nns --val va2.nns --test te2.nns < s.nns
    cmp <(nn-cat --json tr.nns) <(nn-cat --json tr2.nns)
}

@test "bad input: a truncated stream is an error and leaves no output" {
    nn-mkstream -n 50 > s.nns
    head -c 500 s.nns > cut.nns
    run nn-split cut.nns --train tr.nns --val va.nns --test te.nns
    assert_failure 1
    assert_output --regexp "^nn-split: cut.nns: record [0-9]+: truncated"
    [ ! -e tr.nns ] && [ ! -e va.nns ] && [ ! -e te.nns ]
    run bash -c 'head -c 500 s.nns | nn-split --train tr.nns --val va.nns --test te.nns'
    assert_failure 1
    [ ! -e tr.nns ]
}

@test "optional: the Yale faces split by person give disjoint groups" {
    yale="$ROOT/../shared/data/yalefaces"
    [ -d "$yale" ] || skip "no ../shared/data/yalefaces"
    nn-ingest "$yale" --crop center --size 64x64 --pattern '^(subject[0-9]+)\.([a-z]+)\.png$' \
        --group-capture 1 --label-capture 2 | nn-split --by group --train tr.nns --val va.nns --test te.nns
    all="$(groups_of tr.nns)$(groups_of va.nns)$(groups_of te.nns)"
    [ "$(echo $all | tr ' ' '\n' | sort | uniq -d)" = "" ]
    [ "$(echo $all | wc -w)" -eq 10 ]
}
