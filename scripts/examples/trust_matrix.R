#!/usr/bin/env Rscript
# The final trust between organisations as a square matrix, from an output file: the R twin of
# trust_matrix.py. The file stores the final state only for the ordered pairs of organisations
# that share a collaboration, along `pair`, with pair_organisation and pair_partner (indices
# along `organisation`, from 0); this rebuilds the [organisation, partner] matrix, NA where
# two organisations share nothing, as the mean over the done replicates of one point.
#
#   Rscript scripts/examples/trust_matrix.R OUT.h5 [POINT]
#
# Needs Debian's r-cran-hdf5r.
suppressPackageStartupMessages(library(hdf5r))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: trust_matrix.R OUT.h5 [POINT]")
point <- if (length(args) > 1) as.integer(args[2]) else 0L
f <- H5File$new(args[1], mode = "r")
if (h5attr(f, "format") != "trustsim") stop(paste(args[1], ": not a trustsim output"))
orgs <- f[["organisation"]]$read()
done <- f[["done"]]$read(drop = FALSE)[, point + 1] == 1       # [replicate]
trust <- f[["final/trust_interorg"]]$read(drop = FALSE)        # [pair, replicate, point]
by_pair <- rowMeans(trust[, done, point + 1, drop = FALSE])
who <- f[["final/pair_organisation"]]$read()
whom <- f[["final/pair_partner"]]$read()
f$close_all()
m <- matrix(NA_real_, length(orgs), length(orgs), dimnames = list(orgs, orgs))
m[cbind(who + 1, whom + 1)] <- by_pair
print(round(m, 4))
