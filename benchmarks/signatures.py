"""De novo signature extraction: nmfbio against SigProfilerExtractor on generated cohorts.

For each generated cohort (``tests/cohorts.py``: 96-channel Poisson catalogs with realistic,
partly similar signatures, 1–3 active per sample, 500–20,000 mutations per sample; the same
generator and the same (k, n, seed) triples as ``tests/test_signatures.py``), prints:

* **nmfbio**: wall time of ``nmfbio.signatures.extract(catalog, ranks, restarts=R, seed=0)``
  (rank chosen by cross-validation + stability, then R resampled consensus restarts; numba
  kernels compiled beforehand on a tiny catalog, the compile time printed apart), the chosen
  rank against the planted one, and precision / recall / F1 of the recovered signatures;
* **SigProfilerExtractor** (SPE), when ``from SigProfilerExtractor import sigpro`` works: the
  same catalog written as a SigProfiler matrix text file (``MutationType`` + one column per
  sample, channels in alphabetical label order), given to ``sig.sigProfilerExtractor("matrix",
  ...)`` with the same ``minimum_signatures``/``maximum_signatures`` range, ``nmf_replicates``
  = ``--spe-replicates``, ``cpu=2`` (``--spe-cpu``), every other NMF and solution-selection
  setting at its default (``seeds="random"``: SPE 1.4.1 fails on a seed file under NumPy 2,
  ``int()`` of a 1-element array; the seed it drew, from its ``Seeds.txt``, is printed), and
  the cheapest outputs it allows: ``stop_after_extraction=True`` (no decomposition into
  COSMIC, which nmfbio's ``extract`` does not do either, so SPE does strictly less work;
  ``--spe-decompose`` restores it), ``make_decomposition_plots=False``,
  ``export_probabilities=False`` (SPE still draws its per-rank signature and activity PDFs:
  there is no switch for those). SPE runs in a child process started with ``python -c`` (its
  pool workers are spawned and re-import the main module, and importing it sets
  ``OMP_NUM_THREADS=1`` for the whole process); its time is the wall time of the
  ``sigProfilerExtractor`` call alone, measured inside the child, without interpreter start-up
  and imports. Its de novo signatures are read from
  ``SBS96/Suggested_Solution/SBS96_De-Novo_Solution/Signatures/SBS96_De-Novo_Signatures.txt``
  when it writes that folder (only with the decomposition), otherwise from
  ``SBS96/All_Solutions/SBS96_<k>_Signatures/Signatures/SBS96_S<k>_Signatures.txt`` for the
  rank starred in ``SBS96/All_solutions_stat.csv`` (its suggested solution); rows are aligned
  by channel label. Its per-rank times, read from its ``JOB_METADATA.txt``, are printed too.

True positives: one-to-one (Hungarian) matching of planted and recovered signatures on cosine
similarity, a pair counting when its cosine is ≥ 0.90 (the field's convention, as in the
tests); precision = TP / recovered, recall = TP / planted, F1 their harmonic mean.

Target (issue 4): nmfbio at least 10× faster than SPE (time ratio nmfbio / SPE ≤ 0.1) at
equal or better F1, on the same cohorts. With fewer SPE replicates than nmfbio restarts the
comparison favours SPE on time (its NMF work grows with the replicates, on top of a fixed
cost per rank; nmfbio's consensus is not cut) and may cost it accuracy: the settings are
printed with the table.

Run (2 cores: nmfbio ~30 s for the three cohorts; SPE took 21 min for 5 x 200 with ranks 1–8
and 20 replicates, so its defaults, 100 replicates over ranks 1–10, need hours)::

    .venv/bin/python benchmarks/signatures.py                      # nmfbio; SPE if installed
    .venv/bin/python benchmarks/signatures.py --quick              # one small cohort, few reps
    python benchmarks/signatures.py --cohorts 3,100,0 --ranks 1 6 --spe-replicates 20

SPE needs a CPU torch (``pip install torch==2.13.0`` first, then ``pip install
SigProfilerExtractor``); keep it out of the project environment.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from _load import OtherLoad
from scipy.optimize import linear_sum_assignment

import nmfbio
import nmfbio.signatures as sg
from nmfbio.io.sbs96 import CHANNELS
from nmfbio.model_selection.matching import cosine_matrix

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from cohorts import cohort  # noqa: E402  (the tests' generator: one generator for both)

COHORTS = [(3, 100, 0), (5, 200, 2), (8, 300, 4)]  # (k, n, seed), as in tests/test_signatures
TARGET_RATIO = 0.1


# ----------------------------------------------------------------------------- metrics

def scores(true: pd.DataFrame, found: pd.DataFrame) -> dict:
    """Precision, recall, F1 of one-to-one matches at cosine ≥ 0.90, and the matched cosines."""
    C = cosine_matrix(true.to_numpy(float), found.to_numpy(float))
    r, c = linear_sum_assignment(-C)
    tp = int((C[r, c] >= 0.9).sum())
    p, rec = tp / found.shape[1], tp / true.shape[1]
    f1 = 0.0 if tp == 0 else 2 * p * rec / (p + rec)
    return {"tp": tp, "precision": p, "recall": rec, "f1": f1,
            "min_cos": float(C[r, c].min()), "mean_cos": float(C[r, c].mean())}


@dataclass
class Run:
    tool: str
    seconds: float | None
    rank: int | None
    score: dict | None
    load: str
    note: str = ""
    per_rank: str = ""


# ----------------------------------------------------------------------------- nmfbio

def run_nmfbio(cat, S, ranks, restarts) -> Run:
    load = OtherLoad()
    t = time.perf_counter()
    res = sg.extract(cat, ranks=ranks, restarts=restarts, seed=0)
    secs = time.perf_counter() - t
    return Run("nmfbio", secs, res.rank, scores(S, res.signatures), load.text())


# ----------------------------------------------------------------------------- SigProfilerExtractor

SPE_CHILD = r"""
import json, sys, time
args = json.loads(sys.argv[1])
from SigProfilerExtractor import sigpro as sig
t = time.perf_counter()
sig.sigProfilerExtractor("matrix", args["out"], args["matrix"], **args["kw"])
print("SPE_SECONDS", time.perf_counter() - t, flush=True)
"""


def spe_version() -> str | None:
    """SPE's version if it imports in this interpreter (checked in a child: importing it
    changes thread settings of the importing process)."""
    code = ("import importlib.metadata as m; from SigProfilerExtractor import sigpro; "
            "import torch; print(m.version('SigProfilerExtractor'), torch.__version__)")
    try:
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=600)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip().splitlines()[-1] if p.returncode == 0 and p.stdout.strip() else None


def write_matrix(cat: pd.DataFrame, path: Path) -> None:
    m = cat.loc[sorted(CHANNELS)].round().astype(np.int64)  # alphabetical: SigProfiler's order
    m.index.name = "MutationType"
    m.to_csv(path, sep="\t")


def read_signature_file(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", index_col=0)
    missing = sorted(set(CHANNELS) - set(df.index))
    if missing or len(df.index) != len(set(df.index)):
        raise ValueError(f"{path}: channel labels missing or duplicated: {missing[:5]}")
    return df.loc[list(CHANNELS)]


def read_spe_output(out: Path) -> tuple[int, pd.DataFrame, str]:
    """(suggested rank, de novo signatures 96 × k in CHANNELS order, file read)."""
    stat = pd.read_csv(out / "SBS96" / "All_solutions_stat.csv", dtype=str)
    starred = [s for s in stat.iloc[:, 0] if s.strip().endswith("*")]
    if len(starred) != 1:
        raise ValueError(f"{out}: no single starred (suggested) solution in All_solutions_stat")
    k = int(starred[0].strip().rstrip("*"))
    suggested = (out / "SBS96" / "Suggested_Solution" / "SBS96_De-Novo_Solution" / "Signatures"
                 / "SBS96_De-Novo_Signatures.txt")
    per_rank = (out / "SBS96" / "All_Solutions" / f"SBS96_{k}_Signatures" / "Signatures"
                / f"SBS96_S{k}_Signatures.txt")
    path = suggested if suggested.exists() else per_rank
    if not path.exists():
        found = sorted(str(p.relative_to(out)) for p in out.rglob("*Signatures.txt"))
        raise FileNotFoundError(f"no de novo signature file for rank {k}; found: {found}")
    W = read_signature_file(path)
    if W.shape[1] != k:
        raise ValueError(f"{path}: {W.shape[1]} signatures, suggested rank {k}")
    return k, W, str(path.relative_to(out))


def spe_rank_times(out: Path) -> str:
    """Per-rank de novo extraction times from SPE's JOB_METADATA.txt (whole seconds)."""
    try:
        text = (out / "JOB_METADATA.txt").read_text()
    except OSError:
        return ""
    hits = re.findall(r"for a total of (\d+) signatures! \nExecution time:(\d+):(\d+):(\d+)",
                      text)
    return ", ".join(f"k={k}: {int(h) * 3600 + int(m) * 60 + int(s)} s" for k, h, m, s in hits)


def run_spe(cat, S, ranks, replicates, cpu, decompose, workdir: Path) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    matrix, out = workdir / "matrix.txt", workdir / "spe_out"
    write_matrix(cat, matrix)
    kw = dict(minimum_signatures=min(ranks), maximum_signatures=max(ranks),
              nmf_replicates=replicates, cpu=cpu, assignment_cpu=cpu,
              make_decomposition_plots=False, export_probabilities=False,
              stop_after_extraction=not decompose)
    args = json.dumps({"out": str(out), "matrix": str(matrix), "kw": kw})
    log = workdir / "spe.log"
    load = OtherLoad()
    t = time.perf_counter()
    with open(log, "w") as f:
        p = subprocess.run([sys.executable, "-c", SPE_CHILD, args], stdout=f,
                           stderr=subprocess.STDOUT, cwd=workdir)
    outer = time.perf_counter() - t
    text = log.read_text(errors="replace")
    m = re.search(r"SPE_SECONDS ([0-9.]+)", text)
    if p.returncode != 0 or not m:
        tail = text.strip().splitlines()[-5:]
        return Run("SPE", None, None, None, load.text(),
                   note=f"failed (exit {p.returncode}), log {log}: {' | '.join(tail)}")
    k, W, src = read_spe_output(out)
    try:
        drawn = (out / "Seeds.txt").read_text().split()[-1]
    except (OSError, IndexError):
        drawn = "?"
    return Run("SPE", float(m.group(1)), k, scores(S, W), load.text(),
               note=f"read {src}; seed {drawn}; child process total {outer:.0f} s",
               per_rank=spe_rank_times(out))


# ----------------------------------------------------------------------------- report

def machine_lines(spe: str | None) -> list[str]:
    import numba

    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip() or "?"
        dirty = subprocess.run(["git", "status", "--porcelain", "nmfbio"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        commit, dirty = "?", ""
    return [
        f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine: {platform.platform()}; {cpu}; {os.cpu_count()} cores",
        f"python {platform.python_version()} ({sys.executable}); numpy {np.__version__}; "
        f"pandas {pd.__version__}; numba {numba.__version__} ({numba.get_num_threads()} "
        f"threads); nmfbio {nmfbio.__version__} (commit {commit}"
        f"{', nmfbio/ modified' if dirty else ''})",
        "SigProfilerExtractor: " + (f"{spe.split()[0]} (torch {spe.split()[1]})" if spe
                                   else "not run (nmfbio alone)"),
    ]


def fmt_score(s: dict | None) -> str:
    if s is None:
        return f"{'-':>5} {'-':>5} {'-':>5} {'-':>6}"
    return f"{s['precision']:5.2f} {s['recall']:5.2f} {s['f1']:5.2f} {s['min_cos']:6.3f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="one small cohort (3 x 100), ranks 1-5, 20 restarts, 5 SPE replicates")
    ap.add_argument("--cohorts", nargs="+", metavar="K,N,SEED",
                    help="cohorts to run (default: 3,100,0 5,200,2 8,300,4)")
    ap.add_argument("--ranks", nargs=2, type=int, metavar=("LO", "HI"),
                    help="candidate ranks, for both tools (default 1 10)")
    ap.add_argument("--restarts", type=int, help="nmfbio consensus restarts (default 100)")
    ap.add_argument("--spe-replicates", type=int,
                    help="SPE nmf_replicates per rank (default 100, as nmfbio's restarts)")
    ap.add_argument("--spe-cpu", type=int, default=2, help="SPE cpu (default 2)")
    ap.add_argument("--spe-decompose", action="store_true",
                    help="let SPE also decompose into COSMIC (its default pipeline)")
    ap.add_argument("--no-spe", action="store_true", help="nmfbio alone")
    ap.add_argument("--keep", metavar="DIR", help="keep SPE's matrices and outputs in DIR")
    a = ap.parse_args(argv)

    cohorts = ([tuple(int(x) for x in c.split(",")) for c in a.cohorts] if a.cohorts
               else [(3, 100, 0)] if a.quick else COHORTS)
    lo, hi = a.ranks or ((1, 5) if a.quick else (1, 10))
    ranks = range(lo, hi + 1)
    restarts = a.restarts or (20 if a.quick else 100)
    spe_reps = a.spe_replicates or (5 if a.quick else 100)

    spe = None if a.no_spe else spe_version()
    print(f"# signature extraction benchmark — {datetime.date.today()}")
    for line in machine_lines(spe):
        print("# " + line)
    print(f"# cohorts (k planted, n samples, seed): {cohorts}; ranks {lo}-{hi} for both tools")
    print(f"# nmfbio: extract(ranks={lo}..{hi}, restarts={restarts}, seed=0)")
    if spe:
        print(f"# SPE: nmf_replicates={spe_reps} per rank (nmfbio restarts {restarts}"
              f"{'; FEWER: favours SPE on time' if spe_reps < restarts else ''}), "
              f"cpu={a.spe_cpu}, {'with' if a.spe_decompose else 'without'} COSMIC "
              "decomposition, other settings default")
    sys.stdout.flush()

    t = time.perf_counter()
    warm, _, _ = cohort(2, 30, 99)
    sg.extract(warm, ranks=range(1, 3), restarts=2, seed=0)
    print(f"# nmfbio warm-up (numba compilation, once per process): "
          f"{time.perf_counter() - t:.1f} s, excluded below\n", flush=True)

    tmpdir = None if a.keep else tempfile.TemporaryDirectory(prefix="nmfbio_spe_")
    tmp = Path(a.keep) if a.keep else Path(tmpdir.name)
    results = []
    for k, n, seed in cohorts:
        cat, S, _ = cohort(k, n, seed)
        ours = run_nmfbio(cat, S, ranks, restarts)
        print(f"[{k}x{n} seed {seed}] nmfbio {ours.seconds:.1f} s, rank {ours.rank}, "
              f"F1 {ours.score['f1']:.2f} ({ours.load})", file=sys.stderr, flush=True)
        theirs = None
        if spe:
            theirs = run_spe(cat, S, ranks, spe_reps, a.spe_cpu, a.spe_decompose,
                             tmp / f"k{k}_n{n}_s{seed}")
            print(f"[{k}x{n} seed {seed}] SPE {theirs.seconds} s, rank {theirs.rank} "
                  f"({theirs.load}) {theirs.note}", file=sys.stderr, flush=True)
        results.append(((k, n, seed), ours, theirs))

    head = (f"{'cohort':<16} {'tool':<7} {'time s':>8} {'rank':>9} {'prec':>5} {'rec':>5} "
            f"{'F1':>5} {'minCos':>6}  load")
    print(head)
    print("-" * len(head))
    for (k, n, seed), *runs in results:
        for r in runs:
            if r is None:
                continue
            secs = "failed" if r.seconds is None else f"{r.seconds:8.1f}"
            rank = "-" if r.rank is None else f"{r.rank} / {k}"
            print(f"{f'{k} x {n}, seed {seed}':<16} {r.tool:<7} {secs:>8} {rank:>9} "
                  f"{fmt_score(r.score)}  {r.load}")
    print("(rank: chosen / planted; minCos: lowest cosine among the matched pairs)")

    if not spe:
        if tmpdir is not None:
            tmpdir.cleanup()
        print("\nSigProfilerExtractor skipped (--no-spe): nmfbio alone." if a.no_spe else
              "\nSigProfilerExtractor is not installed in this interpreter: nmfbio alone. "
              "Install it (CPU torch first) in another environment to compare.")
        return
    print(f"\nnmfbio vs SPE (target: time ratio <= {TARGET_RATIO} and F1 >= SPE's)")
    head = (f"{'cohort':<16} {'nmfbio s':>9} {'SPE s':>8} {'ratio':>7} {'speed-up':>8} "
            f"{'F1 nmfbio':>9} {'F1 SPE':>7}  result")
    print(head)
    print("-" * len(head))
    for (k, n, seed), ours, theirs in results:
        label = f"{k} x {n}, seed {seed}"
        if theirs.seconds is None:
            print(f"{label:<16} {ours.seconds:9.1f} {'failed':>8}  {theirs.note}")
            continue
        ratio = ours.seconds / theirs.seconds
        f1o, f1t = ours.score["f1"], theirs.score["f1"]
        ok = ratio <= TARGET_RATIO and f1o >= f1t
        print(f"{label:<16} {ours.seconds:9.1f} {theirs.seconds:8.1f} {ratio:7.3f} "
              f"{1 / ratio:7.1f}x {f1o:9.2f} {f1t:7.2f}  {'PASS' if ok else 'FAIL'}")
    print(f"\nSPE settings: ranks {lo}-{hi}, nmf_replicates={spe_reps}, cpu={a.spe_cpu}, "
          f"stop_after_extraction={not a.spe_decompose}; nmfbio restarts={restarts}")
    for (k, n, seed), _, theirs in results:
        if theirs.seconds is not None:
            print(f"SPE {k} x {n}, seed {seed}: {theirs.note}; per rank: {theirs.per_rank}")
    if tmpdir is not None:
        tmpdir.cleanup()  # --keep DIR keeps SPE's inputs, logs and outputs


if __name__ == "__main__":
    main()
