"""``make demo``: nmfbio's two main jobs end to end on bundled data, one HTML report each.

Run it with ``python -m nmfbio.cli.demo [--out DIR] [--quick]`` (``make demo`` runs it with the
defaults). It only calls the ``nmfbio`` command line (:func:`nmfbio.cli.main`, the same
commands a user would type, printed before each runs) and :func:`nmfbio.report.write_report`;
there is no science here.

1. **Mutational signatures** of the bundled catalog of 21 breast cancers
   (:func:`nmfbio.datasets.breast21`, Nik-Zainal et al. 2012): ``nmfbio signatures extract``
   (ranks 1–10, 100 consensus restarts; 96-channel plots), then ``nmfbio signatures assign``
   (sparse refitting with 100 bootstrap resamples). COSMIC is not bundled (its terms forbid
   redistribution): when a copy is found — the file named by ``$NMFBIO_COSMIC``, or one
   installed with SigProfilerAssignment — the signatures are also matched to it
   (``nmfbio signatures match``) and COSMIC is assigned; otherwise the de novo signatures
   are assigned back to the tumours.
2. **Neural assemblies** in a *generated* recording (nmfbio ships no real spike recording):
   :func:`nmfbio.datasets.assemblies.planted_assemblies` with a fixed seed (50 units, 10
   minutes, three planted assemblies), written as a spike table (unit, time in seconds) with
   the planted members beside it, then ``nmfbio assemblies detect`` at 25 ms bins.
3. One self-contained report per job, ``signatures_report.html`` and
   ``assemblies_report.html``, in the output folder (default ``demo_output/``, or
   ``$NMFBIO_DEMO_OUT``).

``--quick`` uses small settings (ranks 1–4, 10 restarts, 10 resamples, a 2-minute
recording) for tests; the demo proper takes about a minute on two cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

__all__ = ["Settings", "FULL", "QUICK", "DemoResult", "output_folder", "find_cosmic",
           "write_recording", "signatures_job", "assemblies_job", "run", "main"]

#: Environment variable naming the output folder (``--out`` wins).
OUT_ENV = "NMFBIO_DEMO_OUT"
#: Environment variable naming a COSMIC SBS file (or a registered reference name).
COSMIC_ENV = "NMFBIO_COSMIC"
#: The reference set looked up when ``$NMFBIO_COSMIC`` is not set.
COSMIC = "COSMIC_v3.4_SBS_GRCh37"
#: Seed of the generated recording: the demo always analyses the same recording.
RECORDING_SEED = 5


@dataclass(frozen=True)
class Settings:
    """Sizes of the demo's jobs.

    Attributes
    ----------
    ranks : str
        Candidate ranks of ``nmfbio signatures extract`` (``"1-10"``).
    restarts : int
        Consensus restarts of the extraction.
    bootstrap : int
        Bootstrap resamples of ``nmfbio signatures assign``.
    duration : float
        Length of the generated recording in seconds.
    bin_width : float
        Bin width of ``nmfbio assemblies detect`` in seconds.
    """

    ranks: str = "1-10"
    restarts: int = 100
    bootstrap: int = 100
    duration: float = 600.0
    bin_width: float = 0.025


#: What ``make demo`` runs.
FULL = Settings()
#: Small settings for tests (``--quick``).
QUICK = Settings(ranks="1-4", restarts=10, bootstrap=10, duration=120.0)


@dataclass
class DemoResult:
    """What :func:`run` wrote.

    Attributes
    ----------
    out : Path
        The output folder.
    reports : dict of str to Path
        ``"signatures"`` and ``"assemblies"``: the HTML reports.
    folders : dict of str to list of Path
        Per job, the command output folders its report was built from.
    seconds : dict of str to float
        Wall time of each job (report included).
    lines : dict of str to str
        Per job, a one-line summary.
    """

    out: Path
    reports: dict = field(default_factory=dict)
    folders: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)


def _say(stream: TextIO, text: str) -> None:
    stream.write(text.rstrip("\n") + "\n")
    stream.flush()


def _nmfbio(args: Sequence[str], stream: TextIO) -> None:
    """Run one ``nmfbio`` command in this process; raise if it fails."""
    from nmfbio.cli import main as cli

    args = [str(a) for a in args]
    _say(stream, "$ nmfbio " + " ".join(args))
    rc = cli(args)
    if rc != 0:
        raise RuntimeError(f"'nmfbio {' '.join(args)}' failed with exit status {rc} (its "
                           "message is above)")


def output_folder(out: str | os.PathLike | None = None) -> Path:
    """The output folder: ``out``, else ``$NMFBIO_DEMO_OUT``, else ``demo_output``.

    Examples
    --------
    >>> output_folder("elsewhere")
    PosixPath('elsewhere')
    """
    if out is not None:
        return Path(out)
    return Path(os.environ.get(OUT_ENV) or "demo_output")


def find_cosmic() -> str | None:
    """The COSMIC reference to use: ``$NMFBIO_COSMIC``, else an installed copy, else None.

    A ``$NMFBIO_COSMIC`` that cannot be loaded is an error (it was asked for); a missing
    installed copy is not.

    Returns
    -------
    str or None
        A path or registered name that ``nmfbio.signatures.reference`` loads.

    Examples
    --------
    With SigProfilerAssignment installed (or ``$NMFBIO_COSMIC`` set)::

        find_cosmic()  # 'COSMIC_v3.4_SBS_GRCh37'
    """
    import nmfbio.signatures as sg

    given = os.environ.get(COSMIC_ENV)
    if given:
        sg.reference(given)
        return given
    try:
        sg.reference(COSMIC)
    except sg.ReferenceNotFoundError:
        return None
    return COSMIC


def write_recording(folder: str | os.PathLike, settings: Settings = FULL):
    """Generate the demo's recording and write it as a spike table and its planted truth.

    Parameters
    ----------
    folder : path-like
        Gets ``spikes.tsv`` (columns ``unit``, ``time``; seconds, one spike per line) and
        ``planted.tsv`` (columns ``assembly``, ``unit``: the planted members).
    settings : Settings
        ``duration`` sets the length; the seed is :data:`RECORDING_SEED`.

    Returns
    -------
    nmfbio.datasets.assemblies.PlantedRecording

    Examples
    --------
    >>> import tempfile
    >>> rec = write_recording(tempfile.mkdtemp(), QUICK)
    >>> rec.window, len(rec.members)
    ((0.0, 120.0), 3)
    """
    import numpy as np
    import pandas as pd

    from nmfbio._atomic import atomic_path
    from nmfbio.datasets.assemblies import planted_assemblies

    folder = Path(folder)
    rec = planted_assemblies(duration=settings.duration, bin_width=settings.bin_width,
                             seed=RECORDING_SEED)
    units = np.concatenate([np.full(len(t), u, dtype=object) for u, t in rec.trains.items()])
    times = np.concatenate(list(rec.trains.values()))
    order = np.argsort(times, kind="stable")
    with atomic_path(folder / "spikes.tsv") as tmp:
        pd.DataFrame({"unit": units[order], "time": times[order]}).to_csv(
            tmp, sep="\t", index=False, float_format="%.9f")
    planted = pd.DataFrame([(f"P{k + 1}", rec.unit_ids[u]) for k, m in enumerate(rec.members)
                            for u in m], columns=["assembly", "unit"])
    with atomic_path(folder / "planted.tsv") as tmp:
        planted.to_csv(tmp, sep="\t", index=False)
    return rec


def signatures_job(out: str | os.PathLike, settings: Settings = FULL, *, seed: int = 0,
                   cosmic: str | None = None, stream: TextIO | None = None) -> list[Path]:
    """Extract, (match and) assign signatures of the bundled 21 breast cancers.

    Parameters
    ----------
    out : path-like
        Parent folder of ``signatures/``, ``signatures_assign/`` and, with ``cosmic``,
        ``signatures_match/``.
    settings : Settings
    seed : int, default 0
    cosmic : str, optional
        A COSMIC file or registered name (see :func:`find_cosmic`); None: assign the de novo
        signatures instead.
    stream : text stream, optional
        Where the commands are echoed (default ``sys.stdout``).

    Returns
    -------
    list of Path
        The command output folders, in report order.

    Examples
    --------
    Writing into ``demo_output/`` (``tests/cli/test_demo.py`` runs it)::

        signatures_job("demo_output", QUICK)
        # [PosixPath('demo_output/signatures'), PosixPath('demo_output/signatures_assign')]
    """
    from nmfbio.datasets import DATA_DIR

    stream = stream or sys.stdout
    out = Path(out)
    catalog = DATA_DIR / "breast21_sbs96.tsv"
    extract, match, assign = (out / "signatures", out / "signatures_match",
                              out / "signatures_assign")
    _nmfbio(["signatures", "extract", catalog, "-o", extract, "--ranks", settings.ranks,
             "--restarts", settings.restarts, "--seed", seed], stream)
    folders = [extract]
    if cosmic is not None:
        _nmfbio(["signatures", "match", extract / "signatures.tsv", "--reference", cosmic,
                 "-o", match], stream)
        folders.append(match)
        reference = cosmic
    else:
        _say(stream, f"(no COSMIC copy found: set ${COSMIC_ENV} to a COSMIC SBS file to match "
                     "and assign COSMIC; assigning the de novo signatures instead)")
        reference = extract / "signatures.tsv"
    _nmfbio(["signatures", "assign", catalog, "--reference", reference, "--bootstrap",
             settings.bootstrap, "--seed", seed, "-o", assign], stream)
    folders.append(assign)
    return folders


def assemblies_job(out: str | os.PathLike, settings: Settings = FULL, *, seed: int = 0,
                   stream: TextIO | None = None) -> list[Path]:
    """Write the generated recording and detect its assemblies.

    Parameters
    ----------
    out : path-like
        Parent folder of ``recording/`` (the input: ``spikes.tsv``, ``planted.tsv``) and
        ``assemblies/`` (the output of ``nmfbio assemblies detect``).
    settings : Settings
    seed : int, default 0
        Seed of the detection (the recording's is :data:`RECORDING_SEED`).
    stream : text stream, optional

    Returns
    -------
    list of Path
        ``[out / "assemblies"]``.

    Examples
    --------
    Writing into ``demo_output/``::

        assemblies_job("demo_output", QUICK)  # [PosixPath('demo_output/assemblies')]
    """
    stream = stream or sys.stdout
    out = Path(out)
    rec = write_recording(out / "recording", settings)
    n_spikes = sum(len(t) for t in rec.trains.values())
    _say(stream, f"generated recording (planted_assemblies, seed {RECORDING_SEED}): "
                 f"{len(rec.unit_ids)} units, {rec.window[1]:g} s, {n_spikes} spikes; "
                 f"planted: " + "; ".join(
                     f"P{k + 1} " + ",".join(rec.unit_ids[u] for u in m)
                     for k, m in enumerate(rec.members)))
    folder = out / "assemblies"
    _nmfbio(["assemblies", "detect", out / "recording" / "spikes.tsv", "--bin-width",
             settings.bin_width, "--window", rec.window[0], rec.window[1], "--seed", seed,
             "-o", folder], stream)
    return [folder]


def _summary_lines(result: DemoResult) -> None:
    """One line per job, read back from what the commands wrote."""
    import pandas as pd

    from nmfbio.assemblies import AssemblyResult

    extract = result.folders["signatures"][0]
    stability = pd.read_csv(extract / "stability.tsv", sep="\t", index_col=0).iloc[:, 0]
    result.lines["signatures"] = (
        f"{len(stability)} de novo signatures in 21 breast cancers (stability "
        + ", ".join(f"{s} {v:.2f}" for s, v in stability.items()) + ")")
    res = AssemblyResult.load(result.folders["assemblies"][0] / "assemblies.h5")
    result.lines["assemblies"] = f"{res.summary()} in the generated recording (3 planted)"


def run(out: str | os.PathLike | None = None, *, quick: bool = False, seed: int = 0,
        stream: TextIO | None = None) -> DemoResult:
    """Run both jobs and write their reports.

    Parameters
    ----------
    out : path-like, optional
        Output folder; default ``$NMFBIO_DEMO_OUT``, else ``demo_output``.
    quick : bool, default False
        Use :data:`QUICK` instead of :data:`FULL`.
    seed : int, default 0
        Seed of the fits.
    stream : text stream, optional
        Where progress is written (default ``sys.stdout``).

    Returns
    -------
    DemoResult

    Examples
    --------
    Writing into ``demo_output/``::

        demo = run("demo_output", quick=True)
        sorted(demo.reports)  # ['assemblies', 'signatures']
    """
    from nmfbio.report import write_report

    stream = stream or sys.stdout
    out = output_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = QUICK if quick else FULL
    result = DemoResult(out)
    titles = {"signatures": "nmfbio demo: mutational signatures of 21 breast cancers",
              "assemblies": "nmfbio demo: neural assemblies in a generated recording"}
    for job in ("signatures", "assemblies"):
        start = time.perf_counter()
        _say(stream, f"\n== {titles[job].removeprefix('nmfbio demo: ')} ==")
        if job == "signatures":
            folders = signatures_job(out, settings, seed=seed, cosmic=find_cosmic(),
                                     stream=stream)
        else:
            folders = assemblies_job(out, settings, seed=seed, stream=stream)
        result.folders[job] = folders
        result.reports[job] = write_report(folders, out / f"{job}_report.html",
                                           title=titles[job])
        result.seconds[job] = time.perf_counter() - start
    _summary_lines(result)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nmfbio.cli.demo [--out DIR] [--quick] [--seed N]``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 1 when a step failed (its message is on stderr).

    Examples
    --------
    What ``make demo`` runs, with the quick settings::

        main(["--quick", "--out", "demo_output"])  # 0
    """
    parser = argparse.ArgumentParser(
        prog="python -m nmfbio.cli.demo",
        description="nmfbio end to end on bundled data: mutational signatures of 21 breast "
                    "cancers, and neural assemblies in a generated recording; one HTML "
                    "report per job.")
    parser.add_argument("--out", default=None,
                        help=f"output folder (default: ${OUT_ENV}, else demo_output)")
    parser.add_argument("--quick", action="store_true",
                        help="small settings (ranks 1-4, 10 restarts, a 2-minute recording), "
                             "for tests")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fits (default: 0)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        demo = run(args.out, quick=args.quick, seed=args.seed)
    except (RuntimeError, OSError, ValueError) as exc:
        sys.stderr.write(f"nmfbio demo: error: {exc}\n")
        return 1
    total = time.perf_counter() - start
    lines = [f"\nnmfbio demo done in {total:.0f} s"
             + (" (quick settings)" if args.quick else "") + f"; outputs in {demo.out}/"]
    for job in ("signatures", "assemblies"):
        lines.append(f"  {job} ({demo.seconds[job]:.0f} s): {demo.lines[job]}")
        lines.append(f"    report: {demo.reports[job].resolve()}")
    lines.append("Open the reports in a browser; they are self-contained (no network).")
    _say(sys.stdout, "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
