#!/bin/sh
# Installs what dnic needs on Debian (as root), only what is missing:
# OpenBLAS (OpenMP flavour, shares dnic's OpenMP runtime), LAPACKE, libomp, oneDNN,
# zlib, libpng (analysis pictures), pkg-config, python3, Open MPI (blocks as
# MPI ranks: `dnic train --mpi`, libdnic_mpi), iproute2 (the two-namespace
# MPI test) and the Fashion-MNIST dataset package.
set -e
pkgs="build-essential pkg-config libopenblas-openmp-dev liblapacke-dev libomp-dev libdnnl-dev zlib1g-dev libpng-dev python3 openmpi-bin libopenmpi-dev iproute2 dataset-fashion-mnist"
missing=""
for p in $pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
