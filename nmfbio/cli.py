"""The ``nmfbio`` command line: ``nmfbio <command> ...`` (also ``python -m nmfbio``).

Each command is a pair of functions: ``_add_<command>(subparsers)`` registers its parser and
sets ``run=_run_<command>``; ``_run_<command>(args) -> int`` does the work by calling public
nmfbio functions (the CLI holds no science). To add a command, write the pair and list the
``_add_`` function in ``_COMMANDS``; nested verbs (``nmfbio signatures extract``) register
their own subparsers inside their ``_add_`` function.

Exit codes: 0 success; 2 for usage errors and bad input (malformed or missing files, invalid
values, refusing to overwrite an input), with a one-paragraph ``nmfbio: error: ...`` on
stderr and no traceback; 1 for other file-system errors (e.g. permission denied) and for
unexpected exceptions (``nmfbio: error: unexpected <Type>: <message>`` and a hint; the
traceback is shown with ``--verbose``/``--debug``). Warnings (such as
:class:`~nmfbio.errors.ConvergenceWarning`) are printed on stderr as one line each.

Global options, accepted before or after the command (``nmfbio -q fit ...`` or
``nmfbio fit ... -q``): ``-q/--quiet`` (no progress bars, no summary), ``-v/--verbose``
(log at INFO on stderr; ``-vv`` or ``--debug``: DEBUG). Logging is set up once, in
:func:`main`; progress bars are drawn only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence

from nmfbio import __version__
from nmfbio._cli_assemblies import add_assemblies
from nmfbio._cli_common import (
    add_global_options,
    add_input_args,
    global_options,
    logging_to_stderr,
    nonneg_float,
    nonneg_int,
    positive_int,
    read_input,
    warn_line,
    write_tsv,
)
from nmfbio._cli_convert import add_convert
from nmfbio._cli_models import add_anchors, add_combine, add_consensus, add_rank
from nmfbio._cli_programs import add_programs
from nmfbio._cli_report import add_report
from nmfbio._cli_signatures import add_signatures
from nmfbio.errors import ConvergenceWarning, DataWarning, FormatError, NMFInputError

__all__ = ["main", "build_parser"]

_PROG = "nmfbio"
log = logging.getLogger("nmfbio")
_BAD_INPUT = (NMFInputError, FormatError, FileNotFoundError, FileExistsError)

_DESCRIPTION = """\
Non-negative matrix factorization for biological and neural data.

nmfbio factorizes a non-negative data matrix X (features × samples) as X ≈ W H:
  features  mutation channels, neurons, genes (the rows of X)
  samples   tumours, time bins, cells (the columns of X)
  W         features × components: the parts (signatures, assemblies, gene programs),
            one column per component, each column summing to 1
  H         components × samples: the recipes (exposures, activations, usages),
            one row per component; H carries the scale

Input orientation: in text (.csv/.tsv/.txt), .npy, .npz and Matrix Market (.mtx) files the
samples are the COLUMNS (rows are features) unless you pass --samples-in rows. An .h5ad file
is samples × features by AnnData convention and is read as such.
"""

_FIT_DESCRIPTION = """\
Fit X ≈ W H (W, H ≥ 0) at one rank and write the factors.

X is features × samples. In text (.csv/.tsv/.txt, optionally .gz; a header line of sample
names and a first column of feature names), .npy, .npz and .mtx files the samples are the
columns unless --samples-in rows says they are the rows. An .h5ad file is samples ×
features (AnnData convention; --samples-in is ignored) and --layer picks one of its layers.
"""

_FIT_EPILOG = """\
outputs (in OUTDIR, each written atomically; an input file is never overwritten):
  W.tsv      features × components, the parts: one row per feature (index label
             "feature"), one column per component C1..Ck; each column sums to 1
  H.tsv      components × samples, the recipes: one row per component (index label
             "component"), one column per sample; H carries the scale
  result.h5  the full result (W, H, loss, history, parameters, names), readable with
             nmfbio.NMFResult.load

Components are ordered by total contribution (row sums of H), largest first.

example:
  nmfbio fit counts.csv --rank 3 --loss kl --seed 0 -o results/
"""


# --------------------------------------------------------------------------- fit
def _add_fit(subparsers) -> None:
    """Register ``nmfbio fit``."""
    from nmfbio.solver import DEFAULT_MAX_ITER, DEFAULT_TOL

    p = subparsers.add_parser(
        "fit", help="fit X ≈ W H at one rank; write W.tsv, H.tsv and result.h5",
        description=_FIT_DESCRIPTION, epilog=_FIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_args(p)
    p.add_argument("-k", "--rank", type=positive_int, required=True,
                   help="number of components")
    p.add_argument("--loss", choices=("frobenius", "kl"), default="frobenius",
                   help="frobenius: ½‖X − WH‖² (Gaussian noise, normalised data); kl: "
                        "generalised Kullback–Leibler (Poisson; use for counts); default: "
                        "%(default)s")
    p.add_argument("--l1-w", type=nonneg_float, default=0.0, metavar="X",
                   help="L1 (sparsity) penalty on W (default: %(default)s)")
    p.add_argument("--l1-h", type=nonneg_float, default=0.0, metavar="X",
                   help="L1 (sparsity) penalty on H (default: %(default)s)")
    p.add_argument("--seed", type=nonneg_int, default=None, metavar="N",
                   help="random seed; the same seed gives the same result (drawn and saved "
                        "in result.h5 when omitted)")
    p.add_argument("--restarts", type=positive_int, default=1, metavar="N",
                   help="seeded runs; the one with the lowest objective is kept "
                        "(default: %(default)s)")
    p.add_argument("--max-iter", type=positive_int, default=DEFAULT_MAX_ITER, metavar="N",
                   help="maximum iterations; a warning is printed when reached "
                        "(default: %(default)s)")
    p.add_argument("--tol", type=nonneg_float, default=DEFAULT_TOL, metavar="X",
                   help="stop when the objective's relative decrease over one iteration falls "
                        "below X (default: %(default)s)")
    p.set_defaults(run=_run_fit)


def _run_fit(args: argparse.Namespace) -> int:
    """Run ``nmfbio fit``: read, fit, write W.tsv, H.tsv and result.h5."""
    import nmfbio

    outdir, outputs, adata = read_input(args, ("W.tsv", "H.tsv", "result.h5"))
    res = nmfbio.fit(
        adata, args.rank, loss=args.loss, l1_W=args.l1_w, l1_H=args.l1_h,
        restarts=args.restarts, max_iter=args.max_iter, tol=args.tol, seed=args.seed,
    )

    write_tsv(res.W_frame(), outputs["W.tsv"], "feature")
    write_tsv(res.H_frame(), outputs["H.tsv"], "component")
    res.save(outputs["result.h5"])

    if not args.quiet:
        sys.stdout.write(
            f"{res.summary()}; seed {res.seed}. Wrote W.tsv (features × components), H.tsv "
            f"(components × samples) and result.h5 to {outdir}\n"
        )
    return 0


# --------------------------------------------------------------------------- the parser
#: One registration function per top-level command, in the order shown by ``--help``.
_COMMANDS: list[Callable] = [_add_fit, add_consensus, add_rank, add_combine, add_anchors,
                             add_signatures, add_assemblies, add_programs, add_report,
                             add_convert]


def build_parser() -> argparse.ArgumentParser:
    """The ``nmfbio`` argument parser with every registered command.

    Examples
    --------
    >>> args = build_parser().parse_args(["fit", "x.csv", "--rank", "3", "-o", "out"])
    >>> args.command, args.rank
    ('fit', 3)
    """
    parser = argparse.ArgumentParser(
        prog=_PROG, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'nmfbio COMMAND --help' for a command's options and outputs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                       title="commands")
    for register in _COMMANDS:
        register(subparsers)
    add_global_options(parser)  # after every command: it adds -q/-v/--debug to each of them
    return parser


# --------------------------------------------------------------------------- running
def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one line on stderr (no source line, no file path)."""
    text = " ".join(str(message).split())
    warn_line(f"{text} ({category.__name__})")


def _error(message: str) -> None:
    sys.stderr.write(f"{_PROG}: error: {' '.join(str(message).split())}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nmfbio`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success; 2 for usage errors and bad input; 1 for other file-system errors and
        unexpected exceptions; 130 when interrupted.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    nmfbio 0.1.0
    0
    """
    from nmfbio._progress import quiet as quiet_progress

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse printed them)
        return exc.code if isinstance(exc.code, int) else 2
    quiet, verbosity = global_options(args)
    with logging_to_stderr(verbosity), quiet_progress(quiet), warnings.catch_warnings():
        warnings.showwarning = _show_warning
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", DataWarning)
        log.info("nmfbio %s: %s", __version__,
                 " ".join(sys.argv[1:] if argv is None else list(argv)))
        try:
            return args.run(args)
        except _BAD_INPUT as exc:
            _error(str(exc))
            return 2
        except OSError as exc:
            _error(str(exc))
            return 1
        except KeyboardInterrupt:
            _error("interrupted")
            return 130
        except Exception as exc:  # noqa: BLE001 - the last resort: one paragraph, exit 1
            return _unexpected(exc, verbosity)


def _unexpected(exc: Exception, verbosity: int) -> int:
    """Report an exception nmfbio did not expect: the traceback only when asked for."""
    if verbosity:
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    text = " ".join(str(exc).split())
    where = ("the traceback is above" if verbosity
             else "rerun with --verbose (or --debug) to see the traceback")
    _error(f"unexpected {type(exc).__name__}{': ' + text if text else ''}. This is probably "
           f"a bug in nmfbio ({where}); please report it with the command line you ran.")
    return 1
