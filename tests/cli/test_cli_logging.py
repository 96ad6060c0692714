"""The command line's global options, logging, progress bars and exit codes: ``--quiet`` and
``--verbose`` before or after the command, INFO/DEBUG lines on stderr, progress bars only on
a terminal, exit 2 with one paragraph for bad input, exit 1 with one paragraph (and the
traceback only when asked) for unexpected errors, and ``--help`` for every command."""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
import pytest

import nmfbio
from nmfbio.cli import build_parser, main
from nmfbio.cli._common import walk_commands


@pytest.fixture
def csv_path(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.poisson(rng.gamma(1.0, 1.0, (12, 2)) @ rng.gamma(1.0, 3.0, (2, 20)) + 0.5)
    path = tmp_path / "counts.csv"
    pd.DataFrame(X, index=[f"g{i}" for i in range(12)],
                 columns=[f"s{j}" for j in range(20)]).to_csv(path)
    return path


def _one_paragraph(err: str) -> None:
    assert err.startswith("nmfbio: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_input_file_exit_2_one_paragraph(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("gene,s1,s2\ng1,1,2\ng2,3\n")
    assert main(["fit", str(bad), "-k", "1", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    _one_paragraph(err)
    assert "bad.csv, line 3" in err
    # the same with --verbose: still exit 2 and no traceback (bad input is not a bug)
    assert main(["-v", "fit", str(bad), "-k", "1", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines()[-1].startswith("nmfbio: error: ")
    assert main(["report", str(tmp_path / "nothing"), "-o", str(tmp_path / "r.html")]) == 2
    _one_paragraph(capsys.readouterr().err)


def _explode(*args, **kwargs):
    raise RuntimeError("solver exploded\n  at step 3")


def test_unexpected_error_exit_1_without_traceback(tmp_path, csv_path, capsys, monkeypatch):
    monkeypatch.setattr(nmfbio, "fit", _explode)
    argv = ["fit", str(csv_path), "-k", "2", "-o", str(tmp_path / "out")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    _one_paragraph(err)
    assert err.startswith("nmfbio: error: unexpected RuntimeError: solver exploded at step 3. "
                          "This is probably a bug in nmfbio (rerun with --verbose (or --debug) "
                          "to see the traceback); please report it")
    for extra in (["--verbose"], ["--debug"]):
        assert main(argv + extra) == 1
        err = capsys.readouterr().err
        assert "\nTraceback (most recent call last):\n" in err
        assert "in _explode" in err and "RuntimeError: solver exploded" in err
        assert err.splitlines()[-1].startswith("nmfbio: error: unexpected RuntimeError: "
                                               "solver exploded at step 3. This is probably "
                                               "a bug in nmfbio (the traceback is above)")


def test_verbose_logs_info_before_or_after_the_command(tmp_path, csv_path, capsys):
    for argv in (["-v", "fit", str(csv_path)], ["fit", str(csv_path), "--verbose"]):
        assert main([*argv, "-k", "2", "--seed", "0", "-o", str(tmp_path / "out")]) == 0
        err = capsys.readouterr().err.splitlines()
        assert err[0] == f"nmfbio: info: nmfbio {nmfbio.__version__}: {' '.join(argv)} -k 2 " \
                         f"--seed 0 -o {tmp_path / 'out'}"
        assert f"nmfbio: info: read {csv_path}: 12 features × 20 samples" in err
        assert all(line.startswith("nmfbio: info: ") for line in err)
    # loops log each step; -vv adds DEBUG lines with the logger's name
    assert main(["consensus", str(csv_path), "-k", "2", "--restarts", "3", "--seed", "0", "-q",
                 "-vv", "-o", str(tmp_path / "c")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert any(line.startswith("nmfbio: debug: [nmfbio.solver.")
               for line in captured.err.splitlines())
    # without -v: nothing on stderr, and the logger is as it was before
    logger = logging.getLogger("nmfbio")
    before = (logger.level, list(logger.handlers), logger.propagate)
    assert main(["fit", str(csv_path), "-k", "2", "-o", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err == ""
    assert (logger.level, list(logger.handlers), logger.propagate) == before


def test_quiet_silences_the_summary_anywhere(tmp_path, csv_path, capsys):
    out = str(tmp_path / "out")
    assert main(["fit", str(csv_path), "-k", "2", "-o", out]) == 0
    assert "NMF rank 2" in capsys.readouterr().out
    for argv in (["--quiet", "fit", str(csv_path)], ["fit", str(csv_path), "-q"],
                 ["-q", "fit", str(csv_path), "--quiet"]):
        assert main([*argv, "-k", "2", "-o", out]) == 0
        assert capsys.readouterr().out == ""
    parser = build_parser()
    args = parser.parse_args(["signatures", "-q", "plot", "s.tsv", "-o", "x.png"])
    assert args.global_quiet  # a group's -q is not undone by its verb's defaults


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bars_only_on_a_terminal_and_not_with_quiet(tmp_path, csv_path, monkeypatch,
                                                             capsys):
    argv = ["rank", str(csv_path), "--ranks", "1-2", "--repeats", "2", "--restarts", "2",
            "--seed", "0", "-o", str(tmp_path / "r")]
    assert main(argv) == 0  # stderr is not a terminal under pytest
    assert "select_rank: rank [" not in capsys.readouterr().err
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    assert main(argv) == 0
    assert "\rselect_rank: rank [####################] 2/2" in term.getvalue()
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    assert main(["-q", *argv]) == 0
    assert term.getvalue() == ""


def test_help_for_every_command(capsys):
    commands = walk_commands(build_parser())
    names = {path for path, _ in commands}
    assert {("fit",), ("report",), ("signatures", "extract"), ("programs", "find")} <= names
    for path, _ in commands:
        assert main([*path, "--help"]) == 0, path
        text = capsys.readouterr().out
        assert text.startswith(f"usage: nmfbio {' '.join(path)}"), path
        for option in ("-q, --quiet", "-v, --verbose", "--debug"):
            assert option in text, (path, option)
