#!/bin/sh
# Installs what dnic needs on Debian (as root), only what is missing:
# OpenBLAS (OpenMP flavour, shares dnic's OpenMP runtime), LAPACKE, libomp, oneDNN,
# zlib, libpng (analysis pictures), pkg-config, python3 and its venv (the
# Python package's tests), Open MPI (blocks as
# MPI ranks: `dnic train --mpi`, libdnic_mpi), iproute2 (the two-namespace
# MPI test) and the Fashion-MNIST dataset package.
#
#   install-deps.sh              what dnic needs (fails if it cannot)
#   install-deps.sh --browser    also what the browser check of the report
#                                needs (Debian's chromium, chromium-driver,
#                                python3-selenium); where those cannot be
#                                installed it says so on stderr and still
#                                exits 0: scripts/test.sh skips that check
#   install-deps.sh --has-browser   exit 0 if the browser check's packages
#                                are installed, 1 if not (installs nothing)
set -e
pkgs="build-essential pkg-config libopenblas-openmp-dev liblapacke-dev libomp-dev libdnnl-dev zlib1g-dev libpng-dev python3 python3-venv openmpi-bin libopenmpi-dev iproute2 dataset-fashion-mnist"
browser_pkgs="chromium chromium-driver python3-selenium"

# the packages of "$@" that are not installed, each after a space
missing() {
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || printf ' %s' "$p"
    done
}

case "${1:-}" in
"") browser=0 ;;
--browser) browser=1 ;;
--has-browser) [ -z "$(missing $browser_pkgs)" ]; exit ;;
*) echo "usage: install-deps.sh [--browser | --has-browser]" >&2; exit 2 ;;
esac

need=$(missing $pkgs)
want=""
[ "$browser" = 1 ] && want=$(missing $browser_pkgs)
[ -z "$need$want" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ -n "$need" ]; then
    echo "installing:$need"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi
if [ -n "$want" ]; then
    echo "installing (for the browser check):$want"
    log=$(mktemp)
    if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want; } \
        >"$log" 2>&1; then
        echo "install-deps: could not install$want (the browser check is skipped): $(tail -n 1 "$log")" >&2
    fi
    rm -f "$log"
fi
