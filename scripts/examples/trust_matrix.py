#!/usr/bin/python3
"""The final trust between organisations as a square matrix, from an output file.

The file stores the final state only for the ordered pairs of organisations that share a
collaboration, along a `pair` dimension with the coordinates pair_organisation and
pair_partner (indices along `organisation`). For a small world, this rebuilds the familiar
[organisation, partner] matrix, NaN where two organisations share nothing, and prints its mean
over the done replicates of one point. The R twin is trust_matrix.R.

    scripts/examples/trust_matrix.py OUT.h5 [--point P]

Needs Debian's python3-h5py and python3-numpy.
"""

import argparse
import sys

import h5py
import numpy as np


def mean_matrix(path, point):
    """Organisation ids and the [organisation, partner] matrix of mean final trust."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != "trustsim":
            sys.exit(f"trust_matrix.py: {path}: not a trustsim output")
        orgs = f["organisation"].asstr()[()]
        final = f["final"]
        done = f["done"][point].astype(bool)                # [replicate]
        trust = final["trust_interorg"][point][done]       # [replicate, pair]
        matrix = np.full((len(orgs), len(orgs)), np.nan)
        if "pair_organisation" in final:                   # format 2: pairs
            by_pair = trust.mean(axis=0)
            matrix[final["pair_organisation"][()], final["pair_partner"][()]] = by_pair
        else:                                               # format 1: the matrix itself
            matrix = np.nanmean(trust, axis=0)
    return orgs, matrix


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("--point", type=int, default=0)
    args = p.parse_args()
    orgs, matrix = mean_matrix(args.file, args.point)
    width = max(len(o) for o in orgs)
    print(" " * width + "".join(f" {o[:8]:>8}" for o in orgs))
    for org, row in zip(orgs, matrix):
        print(f"{org:>{width}}" + "".join("        -" if np.isnan(v) else f" {v:8.4f}"
                                          for v in row))


if __name__ == "__main__":
    main()
