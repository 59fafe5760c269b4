#!/usr/bin/python3
"""Flipped bytes in any dataset of a finished output are reported by h5py and by trustsim.

    check_damage.py TRUSTSIM

Writes a small sweep with the command, then flips one byte in the middle of the stored bytes of
every dataset (its first chunk, or its contiguous storage) in a copy of the file, and checks
that h5py refuses to read each dataset (HDF5's Fletcher-32 checksum) and that `trustsim info
--verify` exits 1 naming every one. Variable-length strings are the exception h5py
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
        names, strings = [], set()

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                names.append(name)
                if obj.dtype.kind == "O":
                    strings.add(name)

        with h5py.File(out, "r") as f:
            f.visititems(visit)
        # one byte flipped in every dataset at once: their bytes do not overlap, and the
        # file's metadata is left whole
        damaged = os.path.join(tmp, "damaged.h5")
        shutil.copy(out, damaged)
        for name in names:
            at, size = storage(out, name)
            flip(damaged, at + size // 2)
        with h5py.File(damaged, "r") as f:
            for name in names:
                try:
                    f[name][()]
                    if name not in strings:
                        print(f"check_damage: /{name}: h5py read it without error",
                              file=sys.stderr)
                        misses += 1
                except OSError:
                    pass
        r = subprocess.run([trustsim, "info", damaged, "--verify"], capture_output=True,
                           text=True)
        if r.returncode != 1:
            print(f"check_damage: trustsim info --verify exited {r.returncode}:\n{r.stderr}",
                  file=sys.stderr)
            misses += 1
        for name in names:
            if f"{damaged}: /{name}: " not in r.stdout:
                print(f"check_damage: /{name}: not named by trustsim info --verify",
                      file=sys.stderr)
                misses += 1
    print(f"check_damage: a byte flipped in each of {len(names)} datasets: "
          f"{len(names) - len(strings)} refused by h5py, {len(names)} named by trustsim "
          f"({misses} missed)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
