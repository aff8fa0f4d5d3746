#!/usr/bin/env bash
# mpi-two-hosts.sh: run ONE Open MPI job with 2 ranks as if on two hosts, on this one machine.
#
#   scripts/mpi-two-hosts.sh [mpirun options] -- command [args...]
#   scripts/mpi-two-hosts.sh command [args...]          (when command does not start with '-')
#
# e.g.  scripts/mpi-two-hosts.sh -- .build/debug/dnic train --mpi --schedule pipeline --rule sg ...
#
# What it does:
#   - makes two network namespaces, A and B, joined only by a veth pair (A: $NET.1, B: $NET.2 in
#     a private /24), so the ranks can reach each other only over that link, like two hosts on a
#     wire (no shared-memory BTL, no loopback between the ranks);
#   - starts mpirun inside A (the orteds must reach it over the veth; the root namespace has no
#     route to the subnet) with a hostfile naming two made-up hosts, one slot each;
#   - instead of ssh, Open MPI's rsh launcher calls a generated agent that maps a host name to its
#     namespace and runs the orted there (`ip netns exec NS`, plus `unshare --uts` so each rank
#     gets its own hostname and session directory). Rank 0 runs in A, rank 1 in B;
#   - on exit prints the bytes the veth carried during the job (one line on stderr:
#     `mpi-two-hosts: veth bytes A->B N, B->A M`) and removes everything it made (trap):
#     anything left in its namespaces is killed, the namespaces (and so the veth) and the
#     temporary directory are deleted. Names carry this script's PID, so runs can overlap.
#
# mpirun flags the script passes, and why:
#   --allow-run-as-root              namespaces need root, so the job runs as root
#   -np 2 --hostfile H               two ranks on two "hosts", slots=1 each; the names never
#                                    resolve, they only go to the agent
#   --rankfile R (>= 2 CPUs)         rank 0 on core 0, rank 1 on core 1. Open MPI sees two nodes
#     or --bind-to none (1 CPU)      and by default binds each node's first rank to core 0, so
#                                    both ranks would share one CPU (measured: 84 MB/s, 4 ms
#                                    latency instead of ~1.1 GB/s, 6 us)
#   --mca plm rsh                    launch the orteds through the rsh/ssh launcher ...
#   --mca plm_rsh_agent AGENT        ... with the namespace agent instead of ssh (no sshd needed)
#   --mca plm_rsh_no_tree_spawn 1    mpirun starts both orteds itself (no orted-starts-orted)
#   --mca pml ob1                    the point-to-point layer that uses BTLs (not ucx/cm) ...
#   --mca btl tcp,self               ... and of those only TCP (and self for a rank to itself)
#   --mca btl_tcp_if_include SUBNET  MPI traffic only over the veth
#   --mca oob_tcp_if_include SUBNET  Open MPI's own control traffic (mpirun <-> orteds) too
#   --mca btl_vader_single_copy_mechanism none
#                                    harmless here (vader, shared memory, is not selected); kept
#                                    so adding vader by hand does not need ptrace rights (CMA)
#   --mca orte_tmpdir_base D         session directories inside the temporary directory
# Options before `--` are added after these (e.g. -q, --report-bindings).
#
# Environment (optional):
#   MPI_TWO_HOSTS_NET=10.77.0        first three octets of the veth's /24
#   MPI_TWO_HOSTS_MTU=N              veth MTU (default the kernel's, 1500)
#   MPI_TWO_HOSTS_BIND=auto|none     auto: the rankfile when >= 2 CPUs; none: --bind-to none
#   MPI_TWO_HOSTS_VERBOSE=1          also print the setup and the mpirun command on stderr
#
# Exit status: mpirun's; 77 with one line `mpi-two-hosts: skip: REASON` on stderr when the
# namespaces or the veth cannot be made (not root, no ip/unshare/mpirun, `ip netns add`
# refused); 2 on a usage error. Signals: INT 130, TERM 143, HUP 129, after cleanup.
set -u

me=mpi-two-hosts
say() { if [ "${MPI_TWO_HOSTS_VERBOSE:-0}" = 1 ]; then echo "$me: $*" >&2; fi; }
skip() { echo "$me: skip: $*" >&2; exit 77; }
usage() { echo "usage: $me [mpirun options] -- command [args...]${1:+ ($1)}" >&2; exit 2; }

# ---- arguments: [mpirun options] -- command args ----
extra=()
[ $# -gt 0 ] || usage
for a in "$@"; do
    if [ "$a" = "--" ]; then
        while [ "$1" != "--" ]; do extra+=("$1"); shift; done
        shift
        break
    fi
done
cmd=("$@")
[ ${#cmd[@]} -gt 0 ] || usage "no command given"
case ${cmd[0]} in -*) usage "options go before --";; esac

# ---- preconditions ----
[ "$(id -u)" = 0 ] || skip "must run as root to create network namespaces (uid $(id -u))"
command -v ip >/dev/null 2>&1 || skip "'ip' (iproute2) not found"
command -v unshare >/dev/null 2>&1 || skip "'unshare' (util-linux) not found"
MPIRUN=$(command -v mpirun) || skip "mpirun not found (openmpi-bin)"

# ---- names unique to this PID (interface names <= 15 characters) ----
pid=$$
NSA=mpins${pid}a    NSB=mpins${pid}b        # network namespaces
VA=mpiv${pid}a      VB=mpiv${pid}b          # veth ends: VA in NSA, VB in NSB
HA=mpinode${pid}a   HB=mpinode${pid}b       # host names in the hostfile (and the ranks' hostnames)
NET=${MPI_TWO_HOSTS_NET:-10.77.0}
IPA=$NET.1 IPB=$NET.2 SUBNET=$NET.0/24
TMPD=
created_ns=()
mpirun_pid=

cleanup() {
    local rc=$? ns pids
    trap - EXIT INT TERM HUP
    if [ -n "$mpirun_pid" ] && kill -0 "$mpirun_pid" 2>/dev/null; then
        # mpirun passes TERM on to the ranks and ends the job; give it 5 s
        kill -TERM "$mpirun_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$mpirun_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$mpirun_pid" 2>/dev/null
        wait "$mpirun_pid" 2>/dev/null
    fi
    for ns in "${created_ns[@]}"; do
        # whatever still lives in one of these namespaces was started by this script
        pids=$(ip netns pids "$ns" 2>/dev/null)
        if [ -n "$pids" ]; then
            # shellcheck disable=SC2086 # one argument per PID
            kill -TERM $pids 2>/dev/null
            sleep 0.3
            pids=$(ip netns pids "$ns" 2>/dev/null)
            # shellcheck disable=SC2086
            [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
        fi
        ip netns del "$ns" 2>/dev/null       # deleting a namespace destroys its veth end too
    done
    ip link del "$VA" 2>/dev/null            # made but never moved into NSA
    [ -z "$TMPD" ] || rm -rf "$TMPD"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- namespaces and the veth ----
for ns in "$NSA" "$NSB"; do
    err=$(ip netns add "$ns" 2>&1) || skip "cannot create network namespace $ns: ${err:-ip netns add failed}"
    created_ns+=("$ns")
done
err=$(ip link add "$VA" type veth peer name "$VB" 2>&1) || skip "cannot create a veth pair: ${err:-ip link add failed}"
setup() {
    ip link set "$VA" netns "$NSA" &&
    ip link set "$VB" netns "$NSB" &&
    ip -n "$NSA" addr add "$IPA/24" dev "$VA" &&
    ip -n "$NSB" addr add "$IPB/24" dev "$VB" &&
    if [ -n "${MPI_TWO_HOSTS_MTU:-}" ]; then
        ip -n "$NSA" link set "$VA" mtu "$MPI_TWO_HOSTS_MTU" &&
        ip -n "$NSB" link set "$VB" mtu "$MPI_TWO_HOSTS_MTU"
    fi &&
    ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up &&
    ip -n "$NSA" link set "$VA" up && ip -n "$NSB" link set "$VB" up
}
setup || { echo "$me: setting up the veth failed" >&2; exit 1; }

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/$me.$pid.XXXXXX") || { echo "$me: mktemp failed" >&2; exit 1; }
mkdir -p "$TMPD/session"

# ---- the launch agent, called by Open MPI's plm/rsh as  AGENT [options] HOST orted args... ----
# Like ssh it joins its arguments into one shell command (orted's arguments carry shell quoting).
AGENT=$TMPD/netns-agent
cat > "$AGENT" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do case "\$1" in -*) shift;; *) break;; esac; done
host=\$1; shift
case "\$host" in
  $HA|$IPA) ns=$NSA;;
  $HB|$IPB) ns=$NSB;;
  *) echo "$me agent: unknown host '\$host'" >&2; exit 1;;
esac
exec ip netns exec "\$ns" unshare --uts /bin/sh -c 'hostname "\$1" && exec /bin/sh -c "\$2"' sh "\$host" "\$*"
EOF
chmod 755 "$AGENT"

printf '%s slots=1\n%s slots=1\n' "$HA" "$HB" > "$TMPD/hostfile"
# (GNU nproc would report OMP_NUM_THREADS instead of the CPUs when that is set)
ncpu=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 1)
if [ "${MPI_TWO_HOSTS_BIND:-auto}" = auto ] && [ "$ncpu" -ge 2 ]; then
    printf 'rank 0=%s slot=0\nrank 1=%s slot=1\n' "$HA" "$HB" > "$TMPD/rankfile"
    bind=(--rankfile "$TMPD/rankfile")
else
    bind=(--bind-to none)
fi

mpiargs=(
    --allow-run-as-root -np 2 --hostfile "$TMPD/hostfile" "${bind[@]}"
    --mca plm rsh --mca plm_rsh_agent "$AGENT" --mca plm_rsh_no_tree_spawn 1
    --mca pml ob1 --mca btl tcp,self
    --mca btl_tcp_if_include "$SUBNET" --mca oob_tcp_if_include "$SUBNET"
    --mca btl_vader_single_copy_mechanism none
    --mca orte_tmpdir_base "$TMPD/session"
)

txbytes() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_bytes" 2>/dev/null || echo 0; }
a0=$(txbytes "$NSA" "$VA") b0=$(txbytes "$NSB" "$VB")
say "$NSA ($VA $IPA, host $HA, rank 0) <-veth-> $NSB ($VB $IPB, host $HB, rank 1); mpirun runs in $NSA"
say "mpirun ${mpiargs[*]} ${extra[*]} ${cmd[*]}"

# in the background and waited for, so a signal to this script runs the cleanup at once;
# <&0 keeps stdin (a background job would otherwise get /dev/null)
ip netns exec "$NSA" "$MPIRUN" "${mpiargs[@]}" "${extra[@]}" "${cmd[@]}" <&0 &
mpirun_pid=$!
wait "$mpirun_pid"
rc=$?
mpirun_pid=

a1=$(txbytes "$NSA" "$VA") b1=$(txbytes "$NSB" "$VB")
echo "$me: veth bytes A->B $((a1 - a0)), B->A $((b1 - b0))" >&2
exit "$rc"
