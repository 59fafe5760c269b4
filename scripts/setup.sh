#!/usr/bin/env bash
# Install the Debian packages trustsim needs that are missing. Idempotent: installs nothing
# when everything is there. Run as root (or with sudo available). With arguments, installs
# those packages (where missing) instead of the whole list.
set -euo pipefail

packages=(
  gcc make cmake pkg-config          # toolchain
  libgsl-dev libhdf5-dev hdf5-tools  # GSL, HDF5 with the high-level library, h5dump
  libdeflate-dev                     # deflate (zlib format), to compress series on every thread
  libyaml-dev libcmocka-dev          # scenario parser, test framework
  libopenmpi-dev openmpi-bin         # the optional MPI build (TRUSTSIM_MPI, on in the ci preset)
  valgrind                           # memory checks of the test suite
  clang libclang-rt-14-dev libomp-14-dev   # libFuzzer and OpenMP for clang (scripts/fuzz.sh)
  python3-numpy python3-h5py         # scripts/ (the engine never needs Python or R)
  python3-matplotlib python3-xarray python3-h5netcdf   # plots and the xarray example
  python3-plotly python3-yaml        # the HTML report (plotly.js inline)
  python3-scipy python3-mpmath chromium   # its tests: statistics computed apart, a browser
  r-base-core r-cran-hdf5r           # the R example
  slurm-wlm munge                    # the test suite's one-node Slurm (scripts/slurm/local-cluster.sh)
)
[ $# -eq 0 ] || packages=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
