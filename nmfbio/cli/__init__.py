"""The ``nmfbio`` command line: ``nmfbio <command> ...`` (also ``python -m nmfbio``).

Each command group is one module of this package (``fit``, ``model_selection`` for
consensus/rank/combine/anchors, ``signatures``, ``assemblies``, ``programs``, ``report``,
``convert``), imported only when one of its commands runs, so ``nmfbio --help`` stays
instant. A command is a pair of functions: ``add_<command>(subparsers)`` registers its parser
(through :func:`nmfbio.cli._common.add_command`) and sets ``run=_run_<command>``;
``_run_<command>(args) -> int`` does the work by calling public nmfbio functions (the CLI
holds no science). To add a command, write the pair and list it in
:data:`nmfbio.cli._common.COMMANDS`; nested verbs (``nmfbio signatures extract``) register
their own subparsers inside their ``add_`` function. ``python -m nmfbio.cli.demo`` is the
demo behind ``make demo``.

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
import importlib
import logging
import sys
import traceback
import warnings
from collections.abc import Iterable, Sequence

from nmfbio import __version__
from nmfbio.cli._common import (
    COMMANDS,
    add_global_options,
    cli_spelling,
    global_options,
    logging_to_stderr,
    warn_line,
)
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

# --------------------------------------------------------------------------- the parser
def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``nmfbio`` argument parser.

    Parameters
    ----------
    commands : iterable of str, optional
        The top-level commands to build in full (their modules in :mod:`nmfbio.cli` are
        imported); the others are listed with their one-line help only. None builds all.

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
    wanted = set(COMMANDS) if commands is None else set(commands)
    for name, (module, help_text) in COMMANDS.items():
        if name in wanted:
            register = getattr(importlib.import_module(f"nmfbio.cli.{module}"), f"add_{name}")
            register(subparsers)
        else:  # listed in --help; its module is imported only when it runs
            subparsers.add_parser(name, help=help_text)
    add_global_options(parser)  # after every command: it adds -q/-v/--debug to each of them
    return parser


def _command_in(argv: Sequence[str]) -> list[str]:
    """The command that ``argv`` runs (the first word that is not an option; global options
    take no value), as a list of at most one name."""
    for word in argv:
        if not word.startswith("-"):
            return [word] if word in COMMANDS else []
    return []


# --------------------------------------------------------------------------- running
def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one line on stderr (no source line, no file path)."""
    text = " ".join(str(message).split())
    warn_line(f"{text} ({category.__name__})")


def _error(message: str) -> None:
    text = cli_spelling(" ".join(str(message).split()))
    sys.stderr.write(f"{_PROG}: error: {text}\n")


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
    >>> main(["--version"])
    nmfbio 0.1.0
    0
    """
    from nmfbio._progress import quiet as quiet_progress

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse printed them)
        return exc.code if isinstance(exc.code, int) else 2
    quiet, verbosity = global_options(args)
    with logging_to_stderr(verbosity), quiet_progress(quiet), warnings.catch_warnings():
        warnings.showwarning = _show_warning
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", DataWarning)
        log.info("nmfbio %s: %s", __version__, " ".join(argv))
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
