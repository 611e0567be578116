#!/usr/bin/env bats
# ZeroMQ endpoints and nn-farm on loopback: ipc:// sockets under the test's directory, tcp on
# a free port. Every command runs under timeout, so a hang is a failure, not a stuck run.

load helper

# A TCP port nobody listens on now (the kernel's pick).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A small VAE on 28x28 u8 images, and N images to encode.
model_and_images() {
    nn-mkstream --count 600 --shape 28x28x1 --dtype u8 --values random --seed 7 > train.nns
    timeout 60 nn-vae-train train.nns -o vae.nns --epochs 1 --hidden 32 --latent 4 -t 1 2>/dev/null
    nn-mkstream --count "$1" --shape 28x28x1 --dtype u8 --values random --seed 3 > in.nns
}

teardown() {
    # Workers started in the background without timeout (to be killed by pid) go with the test.
    for pid in ${KILL_PIDS:-}; do kill -9 "$pid" 2>/dev/null || true; done
}

@test "point to point over ipc and tcp: the bytes a pipe gives, either side binding" {
    nn-mkstream --count 3000 --shape 784 --values random > s.nns
    nn-cat s.nns | nn-cat > pipe.nns
    timeout 20 nn-cat s.nns -o "zmq:bind:ipc://$BATS_TEST_TMPDIR/p.sock" &
    timeout 20 nn-cat "zmq:ipc://$BATS_TEST_TMPDIR/p.sock" > ipc.nns
    wait $!
    cmp pipe.nns ipc.nns
    port=$(free_port)
    timeout 20 nn-cat "zmq:bind:tcp://127.0.0.1:$port" > tcp.nns &
    timeout 20 nn-cat s.nns -o "zmq:tcp://127.0.0.1:$port"
    wait $!
    cmp pipe.nns tcp.nns
    # a stage reads an endpoint like a file: nn-cat --info counts the records
    timeout 20 nn-cat s.nns -o "zmq:bind:ipc://$BATS_TEST_TMPDIR/q.sock" &
    run timeout 20 nn-cat --info "zmq:ipc://$BATS_TEST_TMPDIR/q.sock"
    wait $!
    assert_success
    assert_line --regexp '^records: +3000$'
}

@test "a sender that dies mid-stream is a truncated stream; one that never starts a timeout" {
    nn-mkstream --count 3000 --shape 784 --values random > s.nns
    head -c 3000000 s.nns > cut.nns
    # the sender's input is cut short: it fails, and its end mark tells the reader at once
    timeout 20 nn-cat -o "zmq:bind:ipc://$BATS_TEST_TMPDIR/a.sock" cut.nns 2>/dev/null &
    SECONDS=0
    NN_ZMQ_TIMEOUT=10 run timeout 20 nn-cat "zmq:ipc://$BATS_TEST_TMPDIR/a.sock" -o out.nns
    assert_failure 1
    assert_output --regexp "^nn-cat: zmq:ipc://.*/a.sock: record [0-9]+: truncated [^(]*$"
    [ "$SECONDS" -lt 5 ]
    # a sender killed mid-way: the reader's timeout turns silence into the same error
    (cat cut.nns; sleep 30) | timeout 40 nn-cat -o "zmq:bind:ipc://$BATS_TEST_TMPDIR/b.sock" &
    KILL_PIDS=$!
    SECONDS=0
    NN_ZMQ_TIMEOUT=1 run timeout 20 nn-cat "zmq:ipc://$BATS_TEST_TMPDIR/b.sock" -o out.nns
    assert_failure 1
    assert_output --regexp "record [0-9]+: truncated .*nothing received for 1 s.*NN_ZMQ_TIMEOUT"
    [ ! -e out.nns ]
    [ "$SECONDS" -lt 10 ]
    # nobody sends at all
    port=$(free_port)
    NN_ZMQ_TIMEOUT=1 run timeout 20 nn-cat "zmq:tcp://127.0.0.1:$port" -o out.nns
    assert_failure 1
    assert_output "nn-cat: zmq:tcp://127.0.0.1:$port: nothing received within 1 s: is the sender running? (NN_ZMQ_TIMEOUT)"
    # nobody receives
    NN_ZMQ_TIMEOUT=1 run timeout 20 nn-cat s.nns -o "zmq:tcp://127.0.0.1:$port"
    assert_failure 1
    assert_output "nn-cat: zmq:tcp://127.0.0.1:$port: no reader took data for 1 s: is it running? (NN_ZMQ_TIMEOUT)"
}

@test "bad endpoints and a bad NN_ZMQ_TIMEOUT are one-line errors naming them" {
    nn-mkstream --count 2 > s.nns
    run timeout 10 nn-cat zmq:udp://x:1
    assert_failure 1
    assert_output "nn-cat: zmq:udp://x:1: not a ZeroMQ endpoint: expected zmq:[bind:]tcp://HOST:PORT or zmq:[bind:]ipc://PATH"
    run timeout 10 nn-cat s.nns -o zmq:bind:tcp://no.such.host.invalid:1
    assert_failure 1
    assert_output --regexp "^nn-cat: zmq:bind:tcp://no.such.host.invalid:1: cannot bind: "
    NN_ZMQ_TIMEOUT=soon run timeout 10 nn-cat zmq:tcp://127.0.0.1:1
    assert_failure 1
    assert_output "nn-cat: NN_ZMQ_TIMEOUT: 'soon' is not a number of seconds from 0 to 1000000"
    # outputs that are files (a .npy, a picture, a model checkpoint) refuse an endpoint
    run timeout 10 nn-cat --to npy zmq:tcp://127.0.0.1:1 s.nns
    assert_failure 1
    assert_output "nn-cat: zmq:tcp://127.0.0.1:1: this output must be a file, not a ZeroMQ endpoint"
}

@test "a stalled reader holds the sender back: its memory stays bounded" {
    port=$(free_port)
    # the nn-cat under a timeout (on a busy machine it may take a moment to start)
    child() { local i; for i in $(seq 100); do pgrep -x nn-cat -P "$1" && return; sleep 0.1; done; return 1; }
    NN_ZMQ_TIMEOUT=30 timeout 40 nn-cat "zmq:bind:tcp://127.0.0.1:$port" > /dev/null &
    reader=$!
    rpid=$(child "$reader")
    sleep 0.3
    # stalled before the sender starts: on a fast machine the whole stream takes under 0.3 s
    kill -STOP "$rpid"
    # 30000 records of 784 f32: 94 MB, made on the fly
    NN_ZMQ_TIMEOUT=30 timeout 40 nn-cat -o "zmq:tcp://127.0.0.1:$port" \
        < <(nn-mkstream --count 30000 --shape 784 --values index) &
    sender=$!
    pid=$(child "$sender")
    sleep 1.5
    rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    sleep 1.5
    rss2=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    alive=$(kill -0 "$pid" && echo yes)
    kill -CONT "$rpid"
    wait "$sender"
    wait "$reader"
    echo "# sender RSS: $rss1 kB, then $rss2 kB" >&3
    # it was held back (still running), and did not read its 94 MB into memory meanwhile
    [ "$alive" = yes ]
    [ "$rss2" -lt 60000 ]
    [ $((rss2 - rss1)) -lt 4000 ]
}

@test "nn-farm over 1, 2 and 4 workers: the bytes of one nn-encode, and nn-decode's too" {
    model_and_images 2000
    nn-encode -m vae.nns --batch 256 < in.nns > single.nns
    for n in 1 2 4; do
        e="ipc://$BATS_TEST_TMPDIR/farm$n.sock"
        pids=()
        for ((i = 0; i < n; i++)); do
            timeout 30 nn-encode -m vae.nns --batch 256 --worker "$e" &
            pids+=($!)
        done
        sleep 0.3     # they are all there (a worker later than the end waits in vain)
        timeout 30 nn-farm -w "$e" --batch 256 in.nns -o farm$n.nns
        # every worker is told to stop, and exits 0
        for pid in "${pids[@]}"; do wait "$pid"; done
        cmp single.nns farm$n.nns
    done
    # a task of 3 batches is the same batches; nn-decode as a worker
    nn-decode -m vae.nns < single.nns > dec1.nns
    e="ipc://$BATS_TEST_TMPDIR/dec.sock"
    timeout 30 nn-decode -m vae.nns --worker "$e" &
    w1=$!
    timeout 30 nn-decode -m vae.nns --worker "$e" &
    w2=$!
    sleep 0.3
    timeout 30 nn-farm -w "$e" --batch 768 single.nns -o dec2.nns
    wait "$w1"
    wait "$w2"
    cmp dec1.nns dec2.nns
    # empty input: the header and a trailer of 0
    nn-cat --filter label=none in.nns > empty.nns
    nn-encode -m vae.nns < empty.nns > e1.nns
    timeout 30 nn-farm -w "$e" empty.nns -o e2.nns &
    timeout 30 nn-encode -m vae.nns --worker "$e"
    wait $!
    cmp e1.nns e2.nns
}

@test "nn-farm: a worker killed holding tasks loses nothing: another gets them, every record once" {
    model_and_images 4000
    nn-encode -m vae.nns < in.nns > single.nns
    e="ipc://$BATS_TEST_TMPDIR/farm.sock"
    # the input pauses after a third, so that worker 1 is stopped while tasks are handed out
    { head -c 1000000 in.nns; sleep 2; tail -c +1000001 in.nns; } |
        NN_ZMQ_TIMEOUT=10 timeout 60 nn-farm -v --task-timeout 30 -w "$e" -o farm.nns 2> farm.err &
    farm=$!
    nn-encode -m vae.nns --worker "$e" &
    KILL_PIDS=$!
    sleep 1
    kill -STOP "$KILL_PIDS"         # it holds its tasks, then dies with them
    timeout 60 nn-encode -m vae.nns --worker "$e" &
    sleep 2.5
    kill -9 "$KILL_PIDS"
    wait "$farm"
    cat farm.err >&3
    cmp single.nns farm.nns
    grep -q "worker 1 disconnected" farm.err
    grep -q "handed to another worker" farm.err
}

@test "nn-farm: a late task goes to another worker, its second result is dropped" {
    model_and_images 3000
    nn-encode -m vae.nns < in.nns > single.nns
    e="ipc://$BATS_TEST_TMPDIR/farm.sock"
    # three parts: worker 1 is stopped in the first pause, given tasks after it, woken in the
    # second pause (after --task-timeout has sent its tasks to worker 2)
    { head -c 800000 in.nns; sleep 2; tail -c +800001 in.nns | head -c 800000; sleep 3
      tail -c +1600001 in.nns; } |
        timeout 60 nn-farm -v --task-timeout 1 -w "$e" -o farm.nns 2> farm.err &
    farm=$!
    nn-encode -m vae.nns --worker "$e" &
    KILL_PIDS=$!
    sleep 1
    kill -STOP "$KILL_PIDS"
    timeout 60 nn-encode -m vae.nns --worker "$e" &
    sleep 2.8
    kill -CONT "$KILL_PIDS"
    wait "$farm"
    cat farm.err >&3
    cmp single.nns farm.nns
    grep -q "no result from worker 1 in 1 s: handed again" farm.err
    grep -q "a second result, from worker 1, dropped" farm.err
    # both workers are told to stop and exit 0
    wait "$KILL_PIDS"
}

@test "nn-farm: no producer, no worker, no farm and a failing worker are clear errors" {
    model_and_images 300
    port=$(free_port)
    e="ipc://$BATS_TEST_TMPDIR/farm.sock"
    # the farm's input is an endpoint where nobody sends
    NN_ZMQ_TIMEOUT=1 run timeout 20 nn-farm -w "$e" "zmq:tcp://127.0.0.1:$port" -o out.nns
    assert_failure 1
    assert_output "nn-farm: zmq:tcp://127.0.0.1:$port: nothing received within 1 s: is the sender running? (NN_ZMQ_TIMEOUT)"
    # no worker comes
    NN_ZMQ_TIMEOUT=1 run timeout 20 nn-farm -w "$e" in.nns -o out.nns
    assert_failure 1
    assert_output "nn-farm: $e: no worker for 1 s (NN_ZMQ_TIMEOUT): start some with 'nn-encode -m MODEL --worker $e'"
    [ ! -e out.nns ]
    # no farm
    NN_ZMQ_TIMEOUT=1 run timeout 20 nn-encode -m vae.nns --worker "$e"
    assert_failure 1
    assert_output "nn-encode: $e: nothing heard from the farm for 1 s: is nn-farm running there? (NN_ZMQ_TIMEOUT)"
    # the worker fails on a task (records that do not fit the model): the farm fails too
    nn-mkstream --count 10 --shape 5 > small.nns
    timeout 20 nn-encode -m vae.nns --worker "$e" 2>/dev/null &
    run timeout 20 nn-farm -w "$e" small.nns -o out.nns
    assert_failure 1
    assert_output "nn-farm: worker 1 failed on task 0: nn-encode: small.nns: task 0 (records 1-10): header: records do not fit the model vae.nns, which takes 28x28x1"
    [ ! -e out.nns ]
    run timeout 10 nn-encode -m vae.nns --worker "$e" in.nns
    assert_failure 2
    run timeout 10 nn-farm in.nns
    assert_failure 2
    assert_line --index 0 "nn-farm: no endpoint for the workers: give -w ENDPOINT"
}
