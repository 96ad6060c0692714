"""Pieces shared by the ``nmfbio`` commands: argument types, the input/output options every
command has, the global ``--quiet``/``--verbose``/``--debug`` options and the logging set-up,
reading the input and writing tables and figures atomically. No science."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["COMMANDS", "add_command", "parse_ranks", "positive_int", "nonneg_int",
           "nonneg_float", "positive_float", "fraction", "cosine_threshold", "cli_spelling",
           "add_input_args", "read_input", "write_tsv", "save_figure",
           "warn_line", "INPUT_HELP", "add_global_options", "global_options", "walk_commands",
           "logging_to_stderr"]

log = logging.getLogger("nmfbio")

#: every top-level command: name -> (its module in nmfbio.cli, its one-line help), in the
#: order ``nmfbio --help`` lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "fit": ("fit", "fit X ≈ W H at one rank; write W.tsv, H.tsv and result.h5"),
    "consensus": ("model_selection",
                  "many seeded runs at one rank: which parts are reproducible"),
    "rank": ("model_selection",
             "choose the number of parts by held-out cross-validation and stability"),
    "combine": ("model_selection",
                "combine the shards of 'consensus/rank --shard I/N' into their result"),
    "anchors": ("model_selection",
                "anchor (pure) samples and a separability verdict at one rank"),
    "signatures": ("signatures",
                   "mutational signatures: catalogs, extraction, matching, refitting"),
    "assemblies": ("assemblies", "neural assemblies (gated Poisson NMF) from spike data"),
    "programs": ("programs", "gene-expression programs (consensus NMF) from count matrices"),
    "report": ("report", "one self-contained HTML page of results, with figures and tables"),
    "convert": ("convert",
                "read a matrix, SBS catalog or expression counts; write one .h5ad"),
}


def add_command(subparsers, name: str, **kwargs) -> argparse.ArgumentParser:
    """Register the top-level command ``name`` with its one-line help from :data:`COMMANDS`
    (``kwargs`` go to ``add_parser``: description, epilog, formatter_class)."""
    return subparsers.add_parser(name, help=COMMANDS[name][1], **kwargs)


INPUT_HELP = ("data file: .csv, .tsv, .txt (optionally .gz), .npy, .npz, .mtx, .mtx.gz or "
              ".h5ad; text/npy/npz/mtx files are features × samples unless --samples-in rows")


#: how the library's advice reads on the command line: Python phrasing -> CLI phrasing
#: (messages are written once, for the Python API; the CLI prints them through this)
CLI_SPELLING = (
    ("chrom_alias='auto'", "--chrom-alias auto"),
    ("max_ref_mismatch=", "--max-ref-mismatch "),
    ("max_ref_mismatch", "--max-ref-mismatch"),
    ("window=(t0, t1)", "--window START END"),
    ("a smaller block=", "a smaller --block"),
    ("block=", "--block "),
    ("a shorter bin_width", "a shorter --bin-width"),
    ("bin_width=", "--bin-width "),
    ("l1_W/l1_H", "--l1-w/--l1-h"),
    ("Impute them, or mask them out (mask=False there) so they take no part in the fit",
     "Impute or remove them (in Python, nmfbio.fit(..., mask=...) can leave them out)"),
    ("Remove them or mask them out (mask=False there)",
     "Remove them (in Python, nmfbio.fit(..., mask=...) can leave them out)"),
)


def cli_spelling(message: str) -> str:
    """A library message with its advice in command-line terms (:data:`CLI_SPELLING`).

    Examples
    --------
    >>> cli_spelling("pass window=(t0, t1) in seconds")
    'pass --window START END in seconds'
    """
    for python, cli in CLI_SPELLING:
        message = message.replace(python, cli)
    return message


def warn_line(message: str) -> None:
    """One ``nmfbio: warning: ...`` line on stderr (advice in command-line terms)."""
    sys.stderr.write(f"nmfbio: warning: {cli_spelling(message)}\n")


def parse_ranks(text: str, option: str = "--ranks") -> list[int]:
    """'1-10' or '2,3,5' (or a mix, '1-3,8') → the list of ranks, in the order written.

    The one parser of rank lists for every command and the workflow's config. A reversed
    range ('4-2'), a rank below 1, an empty part or anything but digits is refused with an
    :class:`~nmfbio.errors.NMFInputError` that names ``option`` and the offending part.

    Examples
    --------
    >>> parse_ranks("1-3,8")
    [1, 2, 3, 8]
    >>> parse_ranks("4-2")
    Traceback (most recent call last):
    ...
    nmfbio.errors.NMFInputError: --ranks: the range '4-2' runs backwards; write '2-4'
    """
    from nmfbio.errors import NMFInputError

    shape = f"{option} must look like '1-10' or '2,3,5', got {text!r}"
    ranks: list[int] = []
    for part in str(text).split(","):
        bounds = part.strip().split("-")
        if len(bounds) > 2 or not all(b.strip().isdigit() for b in bounds):
            raise NMFInputError(f"{shape} (the part {part!r} is not a rank or a range)")
        lo, hi = int(bounds[0]), int(bounds[-1])
        if lo < 1:
            raise NMFInputError(f"{option}: ranks start at 1, got {lo} in {text!r}")
        if hi < lo:
            raise NMFInputError(f"{option}: the range {part.strip()!r} runs backwards; "
                                f"write '{hi}-{lo}'")
        ranks.extend(range(lo, hi + 1))
    return ranks


def _number(text: str, kind, ok, what: str, out_of_range: str):
    """``text`` as ``kind`` (int or float), finite and passing ``ok(value)``, else an
    argparse error naming the value: ``what`` when it is no number, ``out_of_range``
    (formatted with ``text`` and ``value``) otherwise."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")) or not ok(value):
        raise argparse.ArgumentTypeError(out_of_range.format(text=text, value=value))
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (argparse type)."""
    return _number(text, int, lambda v: v >= 1, "an integer >= 1",
                   "expected an integer >= 1, got {value}")


def nonneg_int(text: str) -> int:
    """An integer >= 0 (argparse type)."""
    return _number(text, int, lambda v: v >= 0, "an integer >= 0",
                   "expected an integer >= 0, got {value}")


def positive_float(text: str) -> float:
    """A finite number > 0 (argparse type; 0, NaN and inf refused)."""
    return _number(text, float, lambda v: v > 0, "a number > 0",
                   "expected a finite number > 0, got {text!r}")


def fraction(text: str) -> float:
    """A number in [0, 1] (argparse type)."""
    return _number(text, float, lambda v: 0 <= v <= 1, "a fraction between 0 and 1",
                   "expected a fraction between 0 and 1, got {text!r}")


def shard_type(text: str) -> tuple[int, int]:
    """A shard 'I/N' with 1 <= I <= N (argparse type; the rules of
    :func:`nmfbio.model_selection._shards.parse_shard`)."""
    from nmfbio.errors import NMFInputError
    from nmfbio.model_selection._shards import parse_shard

    try:
        return parse_shard(text)
    except NMFInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cosine_threshold(text: str) -> float:
    """A cosine in (0, 1] (argparse type; 0, NaN and values above 1 refused)."""
    return _number(text, float, lambda v: 0 < v <= 1, "a cosine in (0, 1]",
                   "expected a cosine in (0, 1], got {text!r}")


def nonneg_float(text: str) -> float:
    """A finite number >= 0 (argparse type; NaN and inf refused)."""
    return _number(text, float, lambda v: v >= 0, "a number >= 0",
                   "expected a finite number >= 0, got {text!r}")


def add_input_args(p: argparse.ArgumentParser) -> None:
    """INPUT, -o/--outdir, --samples-in, --layer and -q/--quiet."""
    p.add_argument("input", metavar="INPUT", help=INPUT_HELP)
    p.add_argument("-o", "--outdir", metavar="OUTDIR", required=True,
                   help="output folder (created if needed)")
    p.add_argument("--samples-in", choices=("columns", "rows"), default=None,
                   help="where the samples are in a text/.npy/.npz/.mtx file (default: "
                        "columns, i.e. the file is features × samples); ignored for .h5ad")
    p.add_argument("--layer", metavar="NAME", default=None,
                   help=".h5ad only: use this layer instead of X")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="do not print the summary (warnings and errors still go to stderr)")


def read_input(args: argparse.Namespace, names):
    """Check the output paths, then read INPUT as AnnData.

    Returns
    -------
    outdir : Path
    outputs : dict of name -> Path
    adata : anndata.AnnData (samples × features)
    """
    from nmfbio._atomic import check_not_input
    from nmfbio.io import read_matrix

    outdir = Path(args.outdir)
    outputs = {name: outdir / name for name in names}
    check_not_input(outputs.values(), [args.input])
    if outdir.exists() and not outdir.is_dir():
        raise FileExistsError(f"output folder {outdir} exists and is not a folder; choose "
                              "another -o/--outdir")
    if args.input.lower().endswith(".h5ad") and args.samples_in is not None:
        warn_line("--samples-in is ignored for .h5ad files (AnnData is samples × features)")
    adata = read_matrix(args.input, samples_in=args.samples_in or "columns", layer=args.layer)
    log.info("read %s: %d features × %d samples", args.input, adata.n_vars, adata.n_obs)
    if getattr(args, "loss", None) == "kl":
        _warn_if_not_counts(adata, args.input)
    return outdir, outputs, adata


def _warn_if_not_counts(adata, path) -> None:
    """KL is the loss for counts: say so when the values are not whole numbers (a
    log-normalised or scaled matrix), naming the first such value."""
    import numpy as np
    import scipy.sparse as sp

    M = adata.X
    if sp.issparse(M):
        M = M.tocoo()
        vals, rows, cols = M.data, M.row, M.col
    else:
        vals = np.asarray(M).ravel()
        rows = cols = None
    if vals.dtype.kind not in "f":
        return
    bad = np.flatnonzero(vals != np.round(vals))
    if not bad.size:
        return
    k = int(bad[0])
    i, j = (rows[k], cols[k]) if rows is not None else divmod(k, adata.n_vars)
    warn_line(f"--loss kl models counts, but {path} holds {bad.size} non-integer value(s), "
              f"e.g. {vals[k]:g} for sample {adata.obs_names[i]!r}, feature "
              f"{adata.var_names[j]!r}: log-normalised or scaled data? Pass the raw counts "
              "(an .h5ad's counts layer: --layer counts) or use --loss frobenius")


def write_tsv(frame, path, index_label) -> None:
    """Write a DataFrame as TSV atomically."""
    from nmfbio._atomic import atomic_path

    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index_label=index_label)


def save_figure(ax, path) -> None:
    """Save the figure of ``ax`` atomically (format from the suffix: .png, .pdf, .svg)."""
    from nmfbio._atomic import atomic_path

    with atomic_path(path) as tmp:
        ax.figure.savefig(tmp, dpi=150)


# --------------------------------------------------------------------------- global options
_QUIET_HELP = "no progress bars and no summary (warnings and errors still go to stderr)"
_VERBOSE_HELP = ("log what is being done on stderr (-v: INFO, and the traceback of an "
                 "unexpected error; -vv: DEBUG)")
_DEBUG_HELP = "same as -vv: DEBUG logging, and a traceback for unexpected errors"


def walk_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every (sub)command parser below ``parser``, depth first, with its name path.

    Returns
    -------
    list of (tuple of str, argparse.ArgumentParser)
        E.g. ``(("signatures", "extract"), <parser>)``; aliases are listed once.

    Examples
    --------
    >>> from nmfbio.cli import build_parser
    >>> ("fit",) in [names for names, _ in walk_commands(build_parser())]
    True
    """
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        seen = set()
        for name, sub in action.choices.items():
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            found.append(((*path, name), sub))
            found.extend(walk_commands(sub, (*path, name)))
    return found


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """Add ``-q/--quiet``, ``-v/--verbose`` (repeatable) and ``--debug`` to ``parser`` and to
    every subcommand parser below it, so they work before or after the subcommand.

    A subcommand's own ``-q/--quiet`` (``args.quiet``) is kept as it is; where a subcommand
    has none, the global one is added. Options given after the subcommand leave the values
    given before it alone (their defaults are ``argparse.SUPPRESS``); read the combined values
    with :func:`global_options`. Call it after every command is registered.
    """
    parser.add_argument("-q", "--quiet", dest="global_quiet", action="store_true",
                        default=False, help=_QUIET_HELP)
    parser.add_argument("-v", "--verbose", dest="global_verbose", action="count", default=0,
                        help=_VERBOSE_HELP)
    parser.add_argument("--debug", dest="global_debug", action="store_true", default=False,
                        help=_DEBUG_HELP)
    for _, sub in walk_commands(parser):
        taken = sub._option_string_actions
        if "-q" not in taken and "--quiet" not in taken:
            sub.add_argument("-q", "--quiet", dest="global_quiet", action="store_true",
                             default=argparse.SUPPRESS, help=_QUIET_HELP)
        if "-v" not in taken and "--verbose" not in taken:
            sub.add_argument("-v", "--verbose", dest="sub_verbose", action="count",
                             default=argparse.SUPPRESS, help=_VERBOSE_HELP)
        if "--debug" not in taken:
            sub.add_argument("--debug", dest="global_debug", action="store_true",
                             default=argparse.SUPPRESS, help=_DEBUG_HELP)


def global_options(args: argparse.Namespace) -> tuple[bool, int]:
    """``(quiet, verbosity)`` from the parsed arguments; also sets ``args.quiet``.

    ``verbosity`` is 0 (warnings only), 1 (INFO) or 2 (DEBUG; ``-vv`` or ``--debug``).

    Examples
    --------
    >>> global_options(argparse.Namespace(quiet=False, global_quiet=True, global_verbose=1))
    (True, 1)
    """
    quiet = bool(getattr(args, "quiet", False) or getattr(args, "global_quiet", False))
    args.quiet = quiet
    verbosity = getattr(args, "global_verbose", 0) + getattr(args, "sub_verbose", 0)
    if getattr(args, "global_debug", False):
        verbosity = max(verbosity, 2)
    return quiet, min(verbosity, 2)


class _StderrHandler(logging.Handler):
    """Writes records to whatever ``sys.stderr`` is at the time (tests replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


class _Formatter(logging.Formatter):
    def __init__(self, with_names: bool):
        super().__init__()
        self.with_names = with_names

    def format(self, record: logging.LogRecord) -> str:
        where = f" [{record.name}]" if self.with_names else ""
        return f"nmfbio: {record.levelname.lower()}:{where} {record.getMessage()}"


@contextlib.contextmanager
def logging_to_stderr(verbosity: int) -> Iterator[None]:
    """Send the ``nmfbio`` loggers to stderr for one command: WARNING and above by default,
    INFO at ``verbosity`` 1, DEBUG (with logger names) at 2. Restores the logger on exit.

    Examples
    --------
    >>> with logging_to_stderr(0):
    ...     logging.getLogger("nmfbio").getEffectiveLevel() == logging.WARNING
    True
    """
    logger = logging.getLogger("nmfbio")
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[max(0, min(verbosity, 2))]
    handler = _StderrHandler(level)
    handler.setFormatter(_Formatter(with_names=verbosity >= 2))
    before = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]
