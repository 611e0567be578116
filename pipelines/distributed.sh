#!/usr/bin/env bash
# Fashion-MNIST encoded by several machines at once, over ZeroMQ.
#
#   pipelines/distributed.sh farm  MODEL INPUT OUTPUT     # on the machine with the data
#   pipelines/distributed.sh work  MODEL FARMHOST         # on each machine that helps
#   pipelines/distributed.sh local MODEL INPUT OUTPUT [N] # all on this machine, N workers
#
# The farm (nn-farm) reads INPUT, hands runs of 256 records to every worker that connects
# (nn-encode --worker, which needs MODEL on its own machine), and writes OUTPUT in input
# order: the same bytes as `nn-encode -m MODEL < INPUT`. Workers may start before or after the
# farm, and may come and go: a worker that dies loses nothing (nn-farm(1)). PORT (default
# 5600) is the farm's port; NN_ZMQ_TIMEOUT (seconds, default 60) how long anyone waits for a
# peer. Then, on the farm's machine, the map:  nn-tsne OUTPUT | nn-render scatter -o map.png
set -euo pipefail
port=${PORT:-5600}
usage() { sed -n '4,6p' "$0" | sed 's/^# */usage: /' >&2; exit 2; }
[ $# -ge 2 ] || usage
mode=$1 model=$2
case $mode in
farm)
    [ $# -eq 4 ] || usage
    exec nn-farm -v -w "tcp://*:$port" --batch 256 "$3" -o "$4" ;;
work)
    [ $# -eq 3 ] || usage
    # one OpenBLAS thread per worker: start as many workers as the machine has cores
    OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} \
        exec nn-encode -m "$model" --batch 256 --worker "tcp://$3:$port" ;;
local)
    [ $# -ge 4 ] || usage
    n=${5:-2}
    endpoint="ipc://${TMPDIR:-/tmp}/nn-farm.$$.sock"
    pids=()
    for ((i = 0; i < n; i++)); do
        OPENBLAS_NUM_THREADS=1 nn-encode -m "$model" --batch 256 --worker "$endpoint" &
        pids+=($!)
    done
    sleep 0.3    # let them connect: a worker later than the end of a short run waits in vain
    nn-farm -w "$endpoint" --batch 256 "$3" -o "$4"
    for pid in "${pids[@]}"; do wait "$pid"; done ;;
*) usage ;;
esac
