#!/usr/bin/env bats
# nn-tsne: clusters come out as islands by every method, the same bytes for the same seed and
# threads, new points land in their cluster, bad input.

load helper

# label x y [z], one line a point
points() { nn-cat --json --data "$1" | sed 's/.*"label":"\([^"]*\)".*"data":\[\(.*\)\]}/\1 \2/' | tr ',' ' '; }

# The fraction of points whose 10 nearest others (in the map) mostly share their label.
knn_accuracy() {
    awk '{ lab[NR] = $1; for (c = 2; c <= NF; c++) x[NR, c] = $c; nc = NF }
    END {
        for (i = 1; i <= NR; i++) {
            for (j = 1; j <= NR; j++) { d = 0; for (c = 2; c <= nc; c++) d += (x[i, c] - x[j, c]) ^ 2; dist[j] = d }
            dist[i] = 1e300
            for (t = 1; t <= 10; t++) {           # the 10 smallest, by selection
                best = 0; for (j = 1; j <= NR; j++) if (best == 0 || dist[j] < dist[best]) best = j
                nb[t] = best; dist[best] = 1e300
            }
            same = 0; for (t = 1; t <= 10; t++) same += lab[nb[t]] == lab[i]
            good += same > 5
        }
        printf "%.3f\n", good / NR
    }'
}

@test "--help, and bad usage exits 2" {
    run nn-tsne --help
    assert_success
    assert_line --index 0 "usage: nn-tsne [OPTION]... [INPUT]"
    run nn-tsne --method umap x.nns
    assert_failure 2
    assert_line --index 0 "nn-tsne: --method: 'umap' is not auto, exact, bh or fft"
    run nn-tsne --add-to map.nns x.nns
    assert_failure 2
    assert_line --index 0 "nn-tsne: --add-to and --reference go together"
    run nn-tsne --dims 3 --method fft x.nns
    assert_failure 2
}

@test "well-separated clusters come out as islands: 10-NN accuracy 0.99 by every method" {
    nn-mkstream -n 400 --shape 10 --values clusters --clusters 5 > c.nns
    for m in exact bh fft; do
        nn-tsne c.nns --method $m --threads 2 -o map-$m.nns
        acc=$(points map-$m.nns | knn_accuracy)
        echo "# $m: $acc" >&3
        awk -v a="$acc" 'BEGIN { exit !(a >= 0.99) }'
    done
    run nn-cat --info map-bh.nns
    assert_line "kind:     points"
    assert_line "shape:    2 (2 values, 8 bytes a record)"
    assert_line "records:  400"
    assert_output --regexp '"method":"bh","perplexity":30,"iterations":1000,"theta":0.5,"threads":2,"kl":[0-9.]+'
    diff <(nn-cat --json c.nns | cut -d, -f1-3) <(nn-cat --json map-bh.nns | cut -d, -f1-3)
}

@test "the same seed and threads give the same bytes; 3-D maps work" {
    nn-mkstream -n 300 --shape 8 --values clusters --clusters 3 > c.nns
    mkdir again && cp c.nns again/
    for d in . again; do
        (cd $d && nn-tsne c.nns --threads 2 --init random --seed 4 -o a.nns &&
         nn-tsne c.nns --threads 2 --method fft -o f.nns)
    done
    cmp a.nns again/a.nns
    cmp f.nns again/f.nns
    nn-tsne c.nns --dims 3 --iterations 300 -o d3.nns
    run nn-cat --info d3.nns
    assert_line "shape:    3 (3 values, 12 bytes a record)"
    acc=$(points d3.nns | knn_accuracy)
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.99) }'
}

@test "--add-to places new points on a fixed map, in their own clusters" {
    nn-mkstream -n 500 --shape 10 --values clusters --clusters 5 > all.nns
    nn-cat --head 400 all.nns > ref.nns
    nn-cat --json all.nns | tail -100 | sed 's/.*"id":"\([^"]*\)".*/--filter id=\1/' > new.ids
    nn-cat $(cat new.ids) all.nns > new.nns
    nn-tsne ref.nns -o map.nns
    nn-tsne new.nns --add-to map.nns --reference ref.nns -o placed.nns
    run nn-cat --info placed.nns
    assert_line "records:  100"
    # Each placed point's 10 nearest map points mostly share its label.
    acc=$( { points map.nns; points placed.nns | sed 's/^/new:/'; } | awk '
        /^new:/ { sub(/^new:/, ""); nl[++m] = $1; nx[m] = $2; ny[m] = $3; next }
        { l[++n] = $1; x[n] = $2; y[n] = $3 }
        END {
            for (i = 1; i <= m; i++) {
                for (j = 1; j <= n; j++) d[j] = (x[j] - nx[i]) ^ 2 + (y[j] - ny[i]) ^ 2
                same = 0
                for (t = 1; t <= 10; t++) { b = 0; for (j = 1; j <= n; j++) if (b == 0 || d[j] < d[b]) b = j; same += l[b] == nl[i]; d[b] = 1e300 }
                good += same > 5
            }
            printf "%.3f\n", good / m
        }')
    echo "# placed: $acc" >&3
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.98) }'
    nn-cat --head 300 ref.nns > other.nns
    run nn-tsne new.nns --add-to map.nns --reference other.nns -o x.nns
    assert_failure 1
    assert_output "nn-tsne: map.nns: expected 300 points of 2 dimensions, one for each record of other.nns"
}

@test "bad input: too few points for the perplexity, NaN, duplicates" {
    nn-mkstream -n 50 --shape 4 --values random > few.nns
    run nn-tsne few.nns -o m.nns
    assert_failure 1
    assert_output "nn-tsne: few.nns: 50 points are too few for perplexity 30, which needs 90 neighbours of each: use --perplexity 16 or less"
    run nn-tsne few.nns --perplexity 16 -o m.nns
    assert_success
    nn-mkstream -n 50 --shape 4 --values nan > nan.nns
    run nn-tsne nan.nns --perplexity 5 -o m.nns
    assert_failure 1
    assert_output "nn-tsne: nan.nns: record 1 (r0000): value 1 is NaN"
    # a record too long for single-precision distances
    { for i in $(seq 1 59); do echo "$i 0 0"; done; echo "1e20 1e20 1e20"; } |
        nn-mkstream -n 60 --shape 3 --values stdin > big.nns
    run nn-tsne big.nns --perplexity 5 -o big-map.nns
    assert_failure 1
    assert_output "nn-tsne: big.nns: record 60 (r0059): squared length 3e+40 is too large for single-precision distances (at most 1e36): scale the vectors down"
    [ ! -e big-map.nns ]
    # 120 identical points: the binary search and the map stay finite
    nn-mkstream -n 1 --shape 3 --values index > one.nns
    nn-cat $(for i in $(seq 1 120); do echo one.nns; done) > dup.nns
    run nn-tsne dup.nns --iterations 100 -o m.nns
    assert_success
    ! nn-cat --json --data m.nns | grep -q null
}
