"""``nmfbio assemblies detect`` — read spike data with the :mod:`nmfbio.io` spike readers
(format detected from the input or given with ``--format``), call
:func:`nmfbio.assemblies.detect` (or :func:`~nmfbio.assemblies.ica_baseline`), and write the
tables, the result file and the four figures. Which format an input is, and reading it, is
:mod:`nmfbio.io.spike_input`'s. No science here.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import textwrap
from pathlib import Path

from nmfbio.cli._common import add_command, nonneg_int, positive_float, positive_int, warn_line
from nmfbio.errors import NMFInputError
from nmfbio.io.spike_input import FORMATS, spike_format

__all__ = ["add_assemblies", "FORMATS", "OUTPUTS", "FIGURES"]

log = logging.getLogger("nmfbio")

#: tables and the result file written into OUTDIR
OUTPUTS = ("members.tsv", "weights.tsv", "activations.tsv", "events.tsv", "summary.tsv",
           "assemblies.h5")
#: figures written into OUTDIR, and the plot method drawing each
FIGURES = {"raster.png": "plot_raster", "membership.png": "plot_membership",
           "activations.png": "plot_activations", "null.png": "plot_null"}

_DESCRIPTION = """\
Neural assemblies: groups of units that fire together, found by gated Poisson NMF on
binned spike counts, each with a held-out significance test.

Orientation: spikes are binned into a matrix of time bins × units (AnnData convention:
obs = bins, var = units). The detector factorizes it as units × bins, X ≈ background +
W·Z with on/off activations Z; results are labelled tables: weights are units ×
assemblies, activations are bins × assemblies.
"""

_DETECT_DESCRIPTION = """\
Detect assemblies in spike data: bin the spikes (or read binned counts), fit each unit's
slowly varying background, propose candidate assemblies on half of the time blocks and test
them on the other half (cross-fitted), keep the significant ones and refit on all bins.
--method ica runs the PCA/ICA baseline (Lopes-dos-Santos et al. 2013) instead: the number
of assemblies from the Marchenko–Pastur bound, no p-values, no events.

INPUT formats (--format auto picks one: a folder with spike_times.npy or params.py → phy;
.nwb → nwb; .h5ad → h5ad; .csv/.tsv/.txt with two columns, or a header naming a unit and a
time column → spikes-table; other text and .npy/.npz/.mtx → binned):
""" + "".join(textwrap.fill(text, 90, initial_indent=f"  {name:<14}",
                               subsequent_indent=" " * 16) + "\n"
              for name, text in FORMATS.items()) + """
Orientation: the binned data are time bins × units (AnnData: obs = bins, var = units).

Window rule: bins are [t0, t0+w), [t0+w, t0+2w), ... and the LAST BIN IS CLOSED, so a spike
exactly at the window's end is counted. Give the recording window with --window START END
(seconds). Without it the window comes from the file where the format records it (Phy: the
raw data file's length; NWB: the units' obs_intervals or the epochs/trials tables); else it
runs from 0 s to the last spike, rounded up to a whole bin, with a warning - never from the
first to the last spike. Spikes outside the window are dropped with a warning; a window
that is not a whole number of bins loses its last partial bin. For binned input (matrix or
.h5ad), --window keeps the bins lying inside it; a matrix's first bin starts at 0 s.
"""

_DETECT_EPILOG = """\
outputs (in OUTDIR, each written atomically; an input is never overwritten):
  members.tsv      one row per (assembly, unit): assembly, unit, weight_hz (extra firing
                   rate while the assembly is on; ICA: weight, the signed pattern weight),
                   gain (firing while on / background), z (leave-one-out membership
                   z-score); units strongest first. A unit may belong to several assemblies
  weights.tsv      units × assemblies: weight_hz of every unit (0 for non-members; ICA: the
                   signed weights)
  activations.tsv  bins × assemblies: t_start (s) of each bin, then the probability that
                   each assembly is on (ICA: activation strength)
  events.tsv       one row per activation event (consecutive bins with probability > 0.5):
                   assembly, start_bin, end_bin (inclusive), t_start, t_end (s), peak
  summary.tsv      one row per assembly: n_members, p_adj (Holm-adjusted held-out
                   p-value; NaN for ICA), n_events, heldout_gain (held-out log-likelihood
                   gain), members (comma-separated unit ids)
  assemblies.h5    the full result, readable with nmfbio.assemblies.AssemblyResult.load
                   (and by nmfbio report)
  raster.png       spikes of units grouped by assembly, events shaded (a 20 s window)
  membership.png   units × assemblies membership z-scores, members outlined
  activations.png  activation probability of each assembly over time, events shaded
  null.png         held-out gain of each assembly against its shift-surrogate null

examples:
  nmfbio assemblies detect kilosort_out/ --bin-width 0.025 -o assemblies/
  nmfbio assemblies detect spikes.csv --bin-width 0.025 --window 0 600 --time-unit ms -o out/
  nmfbio assemblies detect counts.tsv --format binned --bins-in rows --bin-width 0.05 -o out/
"""


def add_assemblies(subparsers) -> None:
    """Register ``nmfbio assemblies`` and its verb ``detect``."""
    p = add_command(
        subparsers, "assemblies", description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'nmfbio assemblies detect --help' for the input formats, the window rule "
               "and the outputs.")
    sub = p.add_subparsers(dest="verb", metavar="VERB", required=True, title="verbs")
    d = sub.add_parser(
        "detect", help="detect assemblies; write members, activations, events, figures",
        description=_DETECT_DESCRIPTION, epilog=_DETECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("input", metavar="INPUT", help="spike data: a Phy/Kilosort folder, .nwb, "
                   "a spike table, a binned matrix or an .h5ad (see above)")
    d.add_argument("-o", "--outdir", metavar="OUTDIR", required=True,
                   help="output folder (created if needed)")
    d.add_argument("--bin-width", type=float, default=None, metavar="SECONDS",
                   help="bin width in seconds, e.g. 0.025; required, except for an .h5ad "
                        "that records its own (then it must agree)")
    d.add_argument("--window", type=float, nargs=2, default=None, metavar=("START", "END"),
                   help="recording window in seconds (see the window rule above)")
    d.add_argument("--rank", type=positive_int, default=None, metavar="K",
                   help="number of candidate assemblies (all reported with their p-values); "
                        "default: chosen by the held-out test")
    d.add_argument("--method", choices=("gated-nmf", "ica"), default="gated-nmf",
                   help="gated-nmf (default) or ica, the PCA/ICA baseline for comparison")
    d.add_argument("--format", choices=("auto", *FORMATS), default="auto",
                   help="input format (default: %(default)s, detected as described above)")
    d.add_argument("--include", choices=("good", "all"), default=None,
                   help="phy only: the clusters labelled good (default) or all clusters")
    d.add_argument("--time-unit", choices=("s", "ms", "us", "samples"), default=None,
                   help="spikes-table only: unit of the time column (default: s)")
    d.add_argument("--sample-rate", type=float, default=None, metavar="HZ",
                   help="spikes-table with --time-unit samples: samples per second")
    d.add_argument("--bins-in", choices=("rows", "columns"), default=None,
                   help="binned matrix only (required there): are the time bins the rows "
                        "(bins × units) or the columns (units × bins)?")
    d.add_argument("--block", type=positive_float, default=10.0, metavar="SECONDS",
                   help="length of the time blocks the held-out test splits the recording "
                        "into (5 folds need at least 5 blocks; default: %(default)s)")
    d.add_argument("--seed", type=nonneg_int, default=0, metavar="N",
                   help="random seed (default: %(default)s); the same seed gives the same "
                        "result")
    d.add_argument("-q", "--quiet", action="store_true",
                   help="do not print the summary (warnings and errors still go to stderr)")
    d.set_defaults(run=_run_detect)


# --------------------------------------------------------------------------- reading
def _check_options(args, fmt: str) -> None:
    """Refuse bad or missing values (messages name the options); warn about options the
    format ignores."""
    width = args.bin_width
    if width is not None and not (math.isfinite(width) and width > 0):
        raise NMFInputError(f"--bin-width must be a positive number of seconds (e.g. 0.025), "
                            f"got {width:g}")
    if args.window is not None:
        start, end = args.window
        if not (math.isfinite(start) and math.isfinite(end) and end > start):
            raise NMFInputError(f"--window START END must be finite with END after START, "
                                f"got {start:g} {end:g} (seconds)")
        if width is not None and width > (end - start) * (1 + 1e-9):
            raise NMFInputError(f"--bin-width {width:g} s is longer than the window "
                                f"--window {start:g} {end:g} ({end - start:g} s): use a "
                                "shorter bin width or a longer window")
    if args.bin_width is None and fmt != "h5ad":
        raise NMFInputError(f"--bin-width is required for {fmt} input (seconds per bin, e.g. "
                            "--bin-width 0.025)")
    if fmt == "binned" and args.bins_in is None:
        raise NMFInputError("a binned matrix needs --bins-in: rows (one line per time bin, "
                            "units across: bins × units) or columns (one line per unit: "
                            "units × bins)")
    ignored = [(fmt != "phy" and args.include is not None, "--include"),
               (fmt != "spikes-table" and args.time_unit is not None, "--time-unit"),
               (fmt != "spikes-table" and args.sample_rate is not None, "--sample-rate"),
               (fmt != "binned" and args.bins_in is not None, "--bins-in")]
    for flag, option in ignored:
        if flag:
            warn_line(f"{option} is ignored for {fmt} input")


def read_spikes(args, fmt: str):
    """Read INPUT in format ``fmt`` as spike AnnData (bins × units)."""
    from nmfbio.io.spike_input import read_spikes as read

    window = tuple(args.window) if args.window is not None else None
    return read(args.input, args.bin_width, format=fmt, window=window, include=args.include,
                time_unit=args.time_unit, sample_rate=args.sample_rate, bins_in=args.bins_in)


# --------------------------------------------------------------------------- writing
def _write_tables(res, out: dict) -> None:
    from nmfbio._atomic import atomic_path

    def write(frame, name, index_label=None, **kwargs):
        with atomic_path(out[name]) as tmp:
            frame.to_csv(tmp, sep="\t", index=index_label is not None,
                         index_label=index_label, **kwargs)

    write(res.members_table(), "members.tsv")
    write(res.weights, "weights.tsv", "unit")
    act = res.activations.copy()
    act.insert(0, "t_start", res.bin_times)
    write(act, "activations.tsv", "bin", float_format="%.6g")
    write(res.events, "events.tsv")
    write(res.summary_table(), "summary.tsv", "assembly")
    res.save(out["assemblies.h5"])


def _run_detect(args) -> int:
    from nmfbio._atomic import check_not_input, output_set
    from nmfbio.assemblies import detect, ica_baseline
    from nmfbio.plot.signatures import save

    outdir = Path(args.outdir)
    out = {name: outdir / name for name in (*OUTPUTS, *FIGURES)}
    check_not_input(out.values(), [args.input])
    if outdir.exists() and not outdir.is_dir():
        raise FileExistsError(f"output folder {outdir} exists and is not a folder; choose "
                              "another -o/--outdir")
    fmt = spike_format(args.input) if args.format == "auto" else args.format
    _check_options(args, fmt)
    adata = read_spikes(args, fmt)
    log.info("read %s (%s): %d bins × %d units", args.input, fmt, adata.n_obs, adata.n_vars)
    width = args.bin_width if fmt == "h5ad" else None  # the readers record theirs
    if args.method == "ica":
        res = ica_baseline(adata, bin_width=width, rank=args.rank, seed=args.seed)
    else:
        res = detect(adata, bin_width=width, rank=args.rank, block=args.block, seed=args.seed)
    with output_set(outdir, out, command="nmfbio assemblies detect"):
        _write_tables(res, out)
        for name, method in FIGURES.items():
            save(getattr(res, method)(), out[name], dpi=120)
    if not args.quiet:
        n_units, n_bins = res.counts.shape
        sys.stdout.write(f"{res.summary()}; {n_units} units × {n_bins} bins of "
                         f"{res.params['bin_width']:g} s. Wrote members.tsv, summary.tsv, "
                         f"activations.tsv, events.tsv, assemblies.h5 and 4 figures to "
                         f"{outdir}\n")
    return 0
