#!/usr/bin/env Rscript
# Example analysis of a sweep output in R: a metric at the last tick (or --at TICK) against a
# swept parameter, with the mean, median and a 90% band over the runs at each value, read with
# hdf5r. The R twin of analyse.py: it draws the same figure from the same numbers.
#
# For researchers starting their own analysis in R: it shows how to open the file, that hdf5r
# returns arrays with the dimensions reversed ([time, replicate, point] for /series/<metric>,
# as HDF5 stores C order and R is column-major), how to keep only the runs marked done, and how
# to pool replicates by parameter value. read(drop = FALSE) keeps axes of length 1 (a single
# replicate), so the code needs no special case. Not a general plotting tool: see scripts/plot.py.
#
#   scripts/examples/analyse.R SWEEP.h5 -o trust_vs_formalisation.png \
#       [--metric trust_interorg] [--param NAME] [--at TICK]
#
# Needs Debian's r-base-core and r-cran-hdf5r (base graphics only; PNG through cairo).

suppressPackageStartupMessages(library(hdf5r))

usage <- function(msg) {
  message("analyse.R: ", msg)
  message("usage: analyse.R SWEEP.h5 -o OUT.png [--metric NAME] [--param NAME] [--at TICK]")
  quit(status = 2)
}

args <- commandArgs(trailingOnly = TRUE)
opt <- list(metric = "trust_interorg", param = NA, at = NA, output = NA, file = NA)
i <- 1
while (i <= length(args)) {
  a <- args[i]
  if (a %in% c("-o", "--output", "--metric", "--param", "--at")) {
    if (i == length(args)) usage(paste(a, "needs a value"))
    key <- if (a %in% c("-o", "--output")) "output" else sub("^--", "", a)
    opt[[key]] <- args[i + 1]
    i <- i + 2
  } else if (is.na(opt$file)) {
    opt$file <- a
    i <- i + 1
  } else {
    usage(paste("unexpected argument", a))
  }
}
if (is.na(opt$file) || is.na(opt$output)) usage("needs SWEEP.h5 and -o OUT.png")

f <- H5File$new(opt$file, mode = "r")
series_name <- paste0("series/", opt$metric)
if (!f$exists(series_name)) usage(paste0(opt$file, ": no metric '", opt$metric, "'"))
params <- setdiff(names(f[["points"]]), "point")
param <- if (is.na(opt$param)) params[1] else opt$param
if (!(param %in% params)) usage(paste0(opt$file, ": no swept parameter '", param, "'"))

y <- f[[series_name]]$read(drop = FALSE)  # [time, replicate, point]
done <- f[["done"]]$read(drop = FALSE)    # [replicate, point]
ticks <- f[["time"]]$read()
x <- f[[paste0("points/", param)]]$read()
unit <- h5attr(f, "tick_unit")
f$close_all()

t <- if (is.na(opt$at)) length(ticks) else match(as.integer(opt$at), ticks)
if (is.na(t)) usage(paste("tick", opt$at, "is outside the run"))
at_tick <- y[t, , , drop = FALSE]
dim(at_tick) <- dim(y)[2:3]             # [replicate, point]
at_tick[done != 1] <- NA                # runs not done hold no values

# Pool the replicates of the points that share an x value (a grid varies the other
# parameters among them).
levels <- sort(unique(x))
pooled <- lapply(levels, function(v) {
  vals <- as.vector(at_tick[, x == v])
  vals[is.finite(vals)]
})
summary <- data.frame(
  x = levels,
  runs = sapply(pooled, length),
  mean = sapply(pooled, mean),
  median = sapply(pooled, median),
  q05 = sapply(pooled, quantile, probs = 0.05, names = FALSE),   # type 7, as numpy's
  q95 = sapply(pooled, quantile, probs = 0.95, names = FALSE)
)
print(summary, row.names = FALSE)

png(opt$output, width = 1050, height = 675, res = 150, pointsize = 9, type = "cairo")
par(mar = c(4.2, 5.6, 2.5, 1), mgp = c(2.5, 0.8, 0))
plot(summary$x, summary$median, type = "n", bty = "l",
     ylim = range(c(summary$q05, summary$q95), na.rm = TRUE), xlab = param, ylab = "",
     main = paste(opt$metric, "against", param), cex.main = 1, font.main = 1, las = 1)
title(ylab = paste0(opt$metric, " after ", ticks[t], " ", unit, "s"), line = 4.2)
polygon(c(summary$x, rev(summary$x)), c(summary$q05, rev(summary$q95)),
        col = adjustcolor("#56B4E9", alpha.f = 0.35), border = NA)
lines(summary$x, summary$median, col = "#0072B2", lwd = 2)
points(summary$x, summary$mean, pch = 19, col = "#D55E00", cex = 0.8)
legend("topright", c("90% of runs", "median", "mean"), bty = "n",
       fill = c(adjustcolor("#56B4E9", alpha.f = 0.35), NA, NA), border = NA,
       lty = c(NA, 1, NA), lwd = c(NA, 2, NA), pch = c(NA, NA, 19),
       col = c(NA, "#0072B2", "#D55E00"))
invisible(dev.off())
