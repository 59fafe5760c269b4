#!/usr/bin/python3
"""Flipped bytes in any dataset of a finished output are reported by h5py and by trustsim.

    check_damage.py TRUSTSIM

Writes a small sweep with the command, then, for every dataset in turn, flips one byte in the
middle of its stored bytes (its first chunk, or its contiguous storage) in a copy of the file,
and checks that h5py refuses to read that dataset (HDF5's Fletcher-32 checksum) and that
`trustsim info --verify` exits 1 naming it. Variable-length strings are the exception h5py
cannot see: HDF5 keeps their characters in its global heap, where no checksum reaches;
trustsim checks them against their crc32 attribute. Exit status 1 on any miss.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def storage(path, name):
    """(offset, size) of the dataset's first chunk, or of its contiguous storage."""
    with h5py.File(path, "r") as f:
        d = f[name]
        if d.chunks:
            info = d.id.get_chunk_info(0)
            return info.byte_offset, info.size
        return d.id.get_offset(), d.id.get_storage_size()


def flip(path, at):
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x5A]))


def main():
    trustsim = sys.argv[1]
    misses = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sweep.h5")
        subprocess.run([trustsim, "run", os.path.join(ROOT, "tests/data/sweep_list.yaml"), "-o",
                        out, "-q", "-j", "2", "--replicates", "2", "--set", "ticks=6"],
                       check=True)
        names = []
        with h5py.File(out, "r") as f:
            f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        strings = 0
        for name in names:
            copy = os.path.join(tmp, "damaged.h5")
            shutil.copy(out, copy)
            at, size = storage(copy, name)
            flip(copy, at + size // 2)
            with h5py.File(copy, "r") as f:
                is_string = f[name].dtype.kind == "O"
                try:
                    f[name][()]
                    seen_by_h5py = False
                except OSError:
                    seen_by_h5py = True
            r = subprocess.run([trustsim, "info", copy, "--verify"], capture_output=True,
                               text=True)
            seen_by_trustsim = r.returncode == 1 and f"/{name}:" in r.stdout
            if not seen_by_trustsim:
                print(f"check_damage: /{name}: not reported by trustsim info --verify "
                      f"(exit {r.returncode}):\n{r.stdout}{r.stderr}", file=sys.stderr)
                misses += 1
            if not seen_by_h5py and not is_string:
                print(f"check_damage: /{name}: h5py read it without error", file=sys.stderr)
                misses += 1
            strings += is_string
    print(f"check_damage: {len(names)} datasets, one damaged at a time: {len(names) - strings} "
          f"refused by h5py, all {len(names)} named by trustsim ({misses} missed)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
