#!/usr/bin/env bash
# Blocks as MPI ranks beside the same blocks as threads, on this machine,
# in one session: W2 (20 hidden layers x 256 relu, batch 256, SGD) on
# Fashion-MNIST (SGD lr 0.001: 0.01 diverges under sg here, 0.003 under async) with one linear cDNI after hidden layer 10 (two blocks),
#   - locked sg on 1 thread              (dnic train --threads 1)
#   - the pipeline, 2 threads, 1 process (dnic train --schedule pipeline --threads 2)
#   - the pipeline, 2 MPI ranks x 1 thread (mpirun -np 2 dnic train --mpi ...)
#   - async, 2 MPI ranks x 1 thread
# alternating, ROUNDS times (default 3); prints each row's training samples/s
# (evaluation excluded), the median, and the ratios of medians.
#   bash bench/mpi_ranks.sh [extra dnic train flags, e.g. --batch 64]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product dnic >/dev/null 2>&1
dnic=.build/release/dnic
rounds=${ROUNDS:-3}
flags=(--mpi-timeout 600)
mpirun=(mpirun -q --oversubscribe --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
common=(--hidden 20 --width 256 --batch 256 --optimizer sgd --lr 0.001 --rule sg --sg-at 10 --steps 400 --eval-every 400 --quiet "$@")
rate() { sed -n 's/.*steps, \([0-9]*\) samples\/s.*/\1/p'; }
declare -A runs
names=("locked sg, 1 thread" "pipeline, 2 threads" "pipeline, 2 MPI ranks" "async, 2 MPI ranks")
for _ in $(seq "$rounds"); do
    runs[0]+=" $("$dnic" train "${common[@]}" --threads 1 | rate)"
    runs[1]+=" $("$dnic" train "${common[@]}" --schedule pipeline --threads 2 | rate)"
    runs[2]+=" $("${mpirun[@]}" -np 2 "$dnic" train "${common[@]}" --schedule pipeline --mpi "${flags[@]}" --threads 1 | rate)"
    runs[3]+=" $("${mpirun[@]}" -np 2 "$dnic" train "${common[@]}" --schedule async --mpi "${flags[@]}" --threads 1 | rate)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -a med
for i in 0 1 2 3; do
    # shellcheck disable=SC2086
    med[i]=$(median ${runs[$i]})
    printf '%-24s %s samples/s (median %s)\n' "${names[i]}:" "${runs[$i]# }" "${med[i]}"
done
awk -v l="${med[0]}" -v t="${med[1]}" -v m="${med[2]}" -v a="${med[3]}" 'BEGIN {
    printf "2 MPI ranks / 2 threads (pipeline): %.2f\n", m / t
    printf "2 MPI ranks / locked 1 thread:      %.2f\n", m / l
    printf "2 threads / locked 1 thread:        %.2f\n", t / l
    printf "async / pipeline, 2 MPI ranks:      %.2f\n", a / m }'
