"""De novo extraction of DBS78 and ID83 signatures: nmfbio against SigProfilerExtractor.

What is generated (fixed seeds, the same catalogs for both tools):

* **Signatures**: real COSMIC v3.4 GRCh37 signatures (``COSMIC_v3.4_DBS_GRCh37``,
  ``COSMIC_v3.4_ID_GRCh37``), rows put in the canonical channel order of the type
  (``nmfbio.io.mutation_types``), columns renormalised to sum to 1. Four cohorts:

  ====== ======================================= ==== ===============
  name   planted signatures                      seed burden / tumour
  ====== ======================================= ==== ===============
  DBS-4  DBS1, DBS2, DBS4, DBS9                   1    50-1,000
  DBS-6  DBS1, DBS2, DBS4, DBS5, DBS6, DBS9       2    50-1,000
  ID-4   ID1, ID2, ID5, ID8                       3    100-3,000
  ID-6   ID1, ID2, ID3, ID4, ID5, ID8             4    100-3,000
  ====== ======================================= ==== ===============

  Choice: the DBS and ID signatures found in the most cancer types in PCAWG (Alexandrov et
  al. 2020, Nature 578:94): DBS2, DBS4, DBS6, DBS9 (widespread), DBS1 (UV, skin), DBS5
  (platinum treatment); ID1, ID2 (replication slippage, nearly every tumour), ID5 (clock-like),
  ID8 (double-strand-break repair by NHEJ), ID3 (tobacco), ID4. Their largest pairwise
  cosines are 0.11 (DBS4/DBS6) and 0.37 (ID3/ID5; ID4/ID5 0.21, ID5/ID8 0.20). DBS11, also
  widespread, is left out of the default sets on purpose: its cosine with DBS1 is 0.90, the
  matching threshold itself, so a merged DBS1+DBS11 would match either and the F1 would
  measure the threshold, not the method; ``--cohorts DBS1,DBS2,DBS4,DBS5,DBS9,DBS11`` runs
  that stress case.
* **Exposures**: 200 tumours per cohort; each tumour has 1-3 active signatures (the number
  uniform in 1..3, the signatures drawn without replacement), Dirichlet(1, …, 1) weights,
  times a per-tumour burden drawn log-uniform in the range of the table (DBS 50-1,000,
  ID 100-3,000 mutations). **Counts**: Poisson(S · E). Note: real whole genomes carry far
  fewer DBS than that (about 1 % of the SBS count: a median in the tens to low hundreds, many
  tumours with < 20); with those burdens DBS extraction is limited by the data for any tool,
  so these cohorts are the workable, not the typical, case.

What is measured, per cohort (as in ``benchmarks/signatures.py``, whose helpers this script
imports):

* **nmfbio**: wall time of ``nmfbio.signatures.extract(catalog, ranks=range(1, 11),
  restarts=100, seed=0)`` (its defaults; numba compiled beforehand, the compile time printed
  apart), the mutation type it detected from the labels, the chosen rank against the planted k.
* **SigProfilerExtractor** (SPE), run by ``--spe-python`` (default ``/work/spe/bin/python``
  when it exists, else this interpreter) in a child ``python -c`` process: the catalog as a
  SigProfiler matrix text file (``MutationType`` + one column per sample, channels in the
  canonical order; SPE reindexes it itself), ``sigProfilerExtractor("matrix", ...)`` with
  ``minimum_signatures``/``maximum_signatures`` = ``--spe-ranks`` (default 2-8, narrower than
  nmfbio's 1-10, also to save SPE time), ``nmf_replicates`` =
  ``--spe-replicates`` (default 4: with ``cpu=2`` the replicates run two at a time, so 3
  cost as much as 4; 4 keep SPE at ~10 min a cohort here, while its own default is 100),
  ``cpu=2``, ``stop_after_extraction=True``, no
  decomposition plots or probabilities, every other setting default (``seeds="random"``:
  the drawn seed is printed). Its time is the ``sigProfilerExtractor`` call alone, measured in
  the child. SPE writes its results under ``DBS78/`` or ``ID83/`` (``SBS96/`` for SBS): the
  starred rank of ``<TYPE>/All_solutions_stat.csv`` is its suggested solution, read from
  ``<TYPE>/All_Solutions/<TYPE>_<k>_Signatures/Signatures/<TYPE>_S<k>_Signatures.txt``
  (``<TYPE>/Suggested_Solution/<TYPE>_De-Novo_Solution/Signatures/
  <TYPE>_De-Novo_Signatures.txt`` when it exists); rows aligned by channel label.
* **Accuracy**: one-to-one (Hungarian) matching of planted and recovered signatures on cosine
  similarity, a pair counting as a true positive when its cosine is ≥ 0.90; precision =
  TP / recovered, recall = TP / planted, F1. Under the table, every recovered signature is
  listed with its two closest planted signatures (cosines), and every planted signature
  with no match ≥ 0.90, so merges (one recovered close to two planted) and splits (two
  recovered close to one planted) are visible.

Target (issue 18): nmfbio F1 ≥ 0.95 on each cohort. SPE runs with fewer replicates per rank
than nmfbio's restarts (and a narrower rank range): that favours SPE on time, and may cost it
accuracy; the settings are printed with the table.

Run (2 cores)::

    .venv/bin/python benchmarks/signature_types.py                  # 4 cohorts, nmfbio + SPE
    .venv/bin/python benchmarks/signature_types.py --no-spe         # nmfbio alone
    .venv/bin/python benchmarks/signature_types.py --quick          # DBS-4 only, small settings
    .venv/bin/python benchmarks/signature_types.py --cohorts DBS-4 ID1,ID2,ID3:7 \\
        --spe-replicates 20 --spe-ranks 1 10

``--cohorts`` takes names from the table or comma-separated COSMIC names (all DBS or all ID),
optionally ``:SEED``. COSMIC files come from ``--reference-dir`` (a folder holding
``COSMIC_v3.4_DBS_GRCh37.txt`` and ``COSMIC_v3.4_ID_GRCh37.txt``), else from nmfbio's
registry (an installed SigProfilerAssignment), else from the SigProfilerAssignment installed
with SPE in ``--spe-python``'s environment. SPE: ``python3 -m venv /work/spe &&
/work/spe/bin/pip install torch SigProfilerExtractor`` (keep it out of the project venv).
nmfbio's ranks and restarts stay at ``extract``'s defaults unless ``--ranks``/``--restarts``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import OtherLoad  # noqa: E402

# the SBS96 benchmark's metric, runner and report helpers
from signatures import SPE_CHILD, Run, fmt_score, machine_lines, scores, spe_rank_times  # noqa: E402

import nmfbio.signatures as sg  # noqa: E402
from nmfbio.errors import DataWarning  # noqa: E402
from nmfbio.io.mutation_types import mutation_type  # noqa: E402
from nmfbio.model_selection.matching import cosine_matrix  # noqa: E402

N_TUMOURS = 200
ACTIVE = (1, 3)
BURDEN = {"DBS78": (50, 1000), "ID83": (100, 3000)}
REFERENCE = {"DBS78": "COSMIC_v3.4_DBS_GRCh37", "ID83": "COSMIC_v3.4_ID_GRCh37"}
COHORTS = {  # name: (planted COSMIC signatures, seed)
    "DBS-4": (("DBS1", "DBS2", "DBS4", "DBS9"), 1),
    "DBS-6": (("DBS1", "DBS2", "DBS4", "DBS5", "DBS6", "DBS9"), 2),
    "ID-4": (("ID1", "ID2", "ID5", "ID8"), 3),
    "ID-6": (("ID1", "ID2", "ID3", "ID4", "ID5", "ID8"), 4),
}
TARGET_F1 = 0.95
DEFAULT_SPE_PYTHON = "/work/spe/bin/python"


@dataclass
class Case:
    name: str
    mtype: str
    S: pd.DataFrame  # planted signatures, channels × k
    cat: pd.DataFrame  # channels × tumours
    ours: Run | None = None
    W: pd.DataFrame | None = None  # nmfbio's signatures
    theirs: Run | None = None
    W_spe: pd.DataFrame | None = None


# ----------------------------------------------------------------------------- cohorts

def type_of(names) -> str:
    if not names:
        raise SystemExit("empty cohort: give COSMIC signature names, e.g. DBS1,DBS2:7")
    if all(n.startswith("DBS") for n in names):
        return "DBS78"
    if all(n.startswith("ID") for n in names):
        return "ID83"
    raise SystemExit(f"cohort {','.join(names)}: signatures must be all DBS or all ID")


class References:
    """COSMIC v3.4 sets, loaded once per type from the first source that has them."""

    def __init__(self, ref_dir: str | None, spe_python: str | None):
        self.ref_dir, self.spe_python, self.sets, self.source = ref_dir, spe_python, {}, {}

    def _spa_dir(self) -> Path | None:
        if not self.spe_python:
            return None
        code = "import os, SigProfilerAssignment as s; print(os.path.dirname(s.__file__))"
        try:
            p = subprocess.run([self.spe_python, "-c", code], capture_output=True, text=True,
                               timeout=300)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if p.returncode != 0 or not p.stdout.strip():
            return None
        return Path(p.stdout.strip().splitlines()[-1]) / "data" / "Reference_Signatures" / "GRCh37"

    def get(self, mtype: str) -> pd.DataFrame:
        if mtype in self.sets:
            return self.sets[mtype]
        name, errors, ref = REFERENCE[mtype], [], None
        candidates = []
        if self.ref_dir:
            candidates.append(("path", Path(self.ref_dir) / f"{name}.txt"))
        candidates.append(("name", name))
        candidates.append(("spa", None))
        for kind, what in candidates:
            try:
                if kind == "spa":
                    d = self._spa_dir()
                    if d is None:
                        raise FileNotFoundError(f"no SigProfilerAssignment in {self.spe_python}")
                    what = d / f"{name}.txt"
                ref = sg.reference(what if kind == "name" else str(what))
                self.source[mtype] = (f"nmfbio registry ({ref.attrs.get('source', name)})"
                                      if kind == "name" else str(what))
                break
            except Exception as e:  # noqa: BLE001  (try the next source, report all)
                errors.append(f"{what}: {type(e).__name__}: {str(e).splitlines()[0][:120]}")
        if ref is None:
            raise SystemExit(f"{name} not found:\n  " + "\n  ".join(errors))
        labels = list(mutation_type(mtype).labels)
        ref = ref.loc[labels]
        self.sets[mtype] = ref / ref.sum(axis=0)
        return self.sets[mtype]


def cosmic_cohort(S: pd.DataFrame, mtype: str, n: int, seed: int):
    """Poisson catalog (channels × tumours) from planted signatures S (channels × k)."""
    rng = np.random.default_rng(seed)
    k = S.shape[1]
    E = np.zeros((k, n))
    for j in range(n):
        m = min(int(rng.integers(ACTIVE[0], ACTIVE[1] + 1)), k)
        which = rng.choice(k, size=m, replace=False)
        E[which, j] = rng.dirichlet(np.ones(m))
    lo, hi = BURDEN[mtype]
    E *= np.exp(rng.uniform(np.log(lo), np.log(hi), size=n))
    X = rng.poisson(S.to_numpy() @ E).astype(float)
    return pd.DataFrame(X, index=S.index, columns=[f"tumour{j}" for j in range(n)])


def parse_cohorts(specs) -> list[tuple[str, tuple[str, ...], int]]:
    out = []
    for spec in specs:
        if spec in COHORTS:
            names, seed = COHORTS[spec]
            out.append((spec, names, seed))
            continue
        body, _, seed = spec.partition(":")
        names = tuple(x.strip() for x in body.split(",") if x.strip())
        type_of(names)
        out.append((spec, names, int(seed) if seed else 0))
    return out


# ----------------------------------------------------------------------------- tools

def quiet_extract(cat, **kw):
    """``sg.extract`` without its warning about all-zero channels: the planted COSMIC
    signatures leave some channels (near) empty, which the cohort line reports instead."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*are all zero \(where observed\)",
                                category=DataWarning)
        return sg.extract(cat, **kw)


def run_nmfbio(cat, S, ranks, restarts) -> tuple[Run, pd.DataFrame, str]:
    load = OtherLoad()
    t = time.perf_counter()
    res = quiet_extract(cat, ranks=ranks, restarts=restarts, seed=0)
    secs = time.perf_counter() - t
    W = res.signatures.loc[S.index]
    return Run("nmfbio", secs, res.rank, scores(S, W), load.text()), W, res.mutation_type


def spe_version(python: str) -> tuple[str | None, str]:
    """('<SPE version> <torch version>', '') when SPE imports in ``python``, else (None, why)."""
    code = ("import importlib.metadata as m; from SigProfilerExtractor import sigpro; "
            "import torch; print(m.version('SigProfilerExtractor'), torch.__version__)")
    try:
        p = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{python}: {type(e).__name__}: {e}"
    if p.returncode == 0 and p.stdout.strip():
        return p.stdout.strip().splitlines()[-1], ""
    tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["no output"]
    return None, f"{python} -c 'from SigProfilerExtractor import sigpro': {tail[0][:200]}"


def read_signature_file(path: Path, labels) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", index_col=0)
    missing = sorted(set(labels) - set(df.index))
    if missing or len(df.index) != len(set(df.index)):
        raise ValueError(f"{path}: channel labels missing or duplicated: {missing[:5]}")
    return df.loc[list(labels)]


def read_spe_output(out: Path, mtype: str) -> tuple[int, pd.DataFrame, str]:
    """(suggested rank, de novo signatures in canonical order, file read) from SPE's
    ``<TYPE>/`` folder."""
    base = out / mtype
    stat = pd.read_csv(base / "All_solutions_stat.csv", dtype=str)
    starred = [s for s in stat.iloc[:, 0] if s.strip().endswith("*")]
    if len(starred) != 1:
        raise ValueError(f"{base}: no single starred (suggested) solution in All_solutions_stat")
    k = int(starred[0].strip().rstrip("*"))
    suggested = (base / "Suggested_Solution" / f"{mtype}_De-Novo_Solution" / "Signatures"
                 / f"{mtype}_De-Novo_Signatures.txt")
    per_rank = (base / "All_Solutions" / f"{mtype}_{k}_Signatures" / "Signatures"
                / f"{mtype}_S{k}_Signatures.txt")
    path = suggested if suggested.exists() else per_rank
    if not path.exists():
        found = sorted(str(p.relative_to(out)) for p in out.rglob("*Signatures.txt"))
        raise FileNotFoundError(f"no de novo signature file for rank {k}; found: {found}")
    W = read_signature_file(path, mutation_type(mtype).labels)
    if W.shape[1] != k:
        raise ValueError(f"{path}: {W.shape[1]} signatures, suggested rank {k}")
    return k, W, str(path.relative_to(out))


def run_spe(python, cat, S, mtype, ranks, replicates, cpu, workdir: Path):
    workdir.mkdir(parents=True, exist_ok=True)
    matrix, out = workdir / "matrix.txt", workdir / "spe_out"
    m = cat.round().astype(np.int64)
    m.index.name = "MutationType"
    m.to_csv(matrix, sep="\t")
    kw = dict(minimum_signatures=min(ranks), maximum_signatures=max(ranks),
              nmf_replicates=replicates, cpu=cpu, assignment_cpu=cpu,
              make_decomposition_plots=False, export_probabilities=False,
              stop_after_extraction=True)
    args = json.dumps({"out": str(out), "matrix": str(matrix), "kw": kw})
    log = workdir / "spe.log"
    load = OtherLoad()
    t = time.perf_counter()
    with open(log, "w") as f:
        p = subprocess.run([python, "-c", SPE_CHILD, args], stdout=f, stderr=subprocess.STDOUT,
                           cwd=workdir)
    outer = time.perf_counter() - t
    text = log.read_text(errors="replace")
    sec = re.search(r"SPE_SECONDS ([0-9.]+)", text)
    if p.returncode != 0 or not sec:
        tail = text.strip().splitlines()[-5:]
        return Run("SPE", None, None, None, load.text(),
                   note=f"failed (exit {p.returncode}), log {log}: {' | '.join(tail)}"), None
    try:
        k, W, src = read_spe_output(out, mtype)
    except (OSError, ValueError) as e:
        return Run("SPE", float(sec.group(1)), None, None, load.text(),
                   note=f"output not read: {e}"), None
    try:
        drawn = (out / "Seeds.txt").read_text().split()[-1]
    except (OSError, IndexError):
        drawn = "?"
    return Run("SPE", float(sec.group(1)), k, scores(S, W), load.text(),
               note=f"read {src}; seed {drawn}; child process total {outer:.0f} s",
               per_rank=spe_rank_times(out)), W


# ----------------------------------------------------------------------------- report

def match_lines(S: pd.DataFrame, W: pd.DataFrame, tool: str) -> list[str]:
    """Each recovered signature with its two closest planted ones, and planted ones left
    without a match ≥ 0.90 (merges and splits show here)."""
    from scipy.optimize import linear_sum_assignment

    C = cosine_matrix(S.to_numpy(float), W.to_numpy(float))  # planted × recovered
    r, c = linear_sum_assignment(-C)
    pair = {j: i for i, j in zip(r, c, strict=True)}
    lines = []
    for j, name in enumerate(W.columns):
        order = np.argsort(-C[:, j])[:2]
        near = ", ".join(f"{S.columns[i]} {C[i, j]:.3f}" for i in order)
        tag = (f"-> {S.columns[pair[j]]}" if j in pair and C[pair[j], j] >= 0.9
               else "-> unmatched")
        lines.append(f"    {tool} {name}: closest {near}  {tag}")
    for i, name in enumerate(S.columns):
        matched = [j for ii, j in zip(r, c, strict=True) if ii == i and C[i, j] >= 0.9]
        if not matched:
            j = int(np.argmax(C[i]))
            lines.append(f"    {tool}: planted {name} not recovered (best {W.columns[j]} "
                         f"{C[i, j]:.3f})")
    return lines


def row(name, k, r: Run) -> str:
    secs = "failed" if r.seconds is None else f"{r.seconds:8.1f}"
    rank = "-" if r.rank is None else f"{r.rank} / {k}"
    return f"{name:<24} {r.tool:<7} {secs:>8} {rank:>9} {fmt_score(r.score)}  {r.load}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="DBS-4 only; nmfbio ranks 1-6, 20 restarts; SPE ranks 3-5")
    ap.add_argument("--cohorts", nargs="+", metavar="NAME|SIGS[:SEED]",
                    help=f"cohorts (default: {' '.join(COHORTS)})")
    ap.add_argument("--n", type=int, default=N_TUMOURS, help="tumours per cohort (200)")
    ap.add_argument("--ranks", nargs=2, type=int, metavar=("LO", "HI"),
                    help="nmfbio candidate ranks (default 1 10, extract's default)")
    ap.add_argument("--restarts", type=int, help="nmfbio restarts (default 100)")
    ap.add_argument("--spe-python", help=f"interpreter with SPE (default {DEFAULT_SPE_PYTHON} "
                    "when it exists, else this one); 'none' skips SPE")
    ap.add_argument("--spe-ranks", nargs=2, type=int, metavar=("LO", "HI"),
                    help="SPE minimum/maximum_signatures (default 2 8)")
    ap.add_argument("--spe-replicates", type=int, help="SPE nmf_replicates (default 4)")
    ap.add_argument("--spe-cpu", type=int, default=2, help="SPE cpu (default 2)")
    ap.add_argument("--no-spe", action="store_true", help="nmfbio alone")
    ap.add_argument("--reference-dir", help="folder with COSMIC_v3.4_{DBS,ID}_GRCh37.txt")
    ap.add_argument("--keep", metavar="DIR", help="keep SPE's matrices and outputs in DIR")
    a = ap.parse_args(argv)

    cohorts = parse_cohorts(a.cohorts or (["DBS-4"] if a.quick else list(COHORTS)))
    lo, hi = a.ranks or ((1, 6) if a.quick else (1, 10))
    ranks = range(lo, hi + 1)
    restarts = a.restarts or (20 if a.quick else 100)
    slo, shi = a.spe_ranks or ((3, 5) if a.quick else (2, 8))
    spe_ranks = range(slo, shi + 1)
    spe_reps = a.spe_replicates or 4
    python = a.spe_python or (DEFAULT_SPE_PYTHON if Path(DEFAULT_SPE_PYTHON).exists()
                              else sys.executable)
    if a.no_spe or python == "none":
        spe, why = None, "skipped (--no-spe)"
    else:
        spe, why = spe_version(python)

    refs = References(a.reference_dir, None if python == "none" else python)
    print(f"# DBS78 / ID83 signature extraction benchmark — {datetime.date.today()}")
    for line in machine_lines(spe):
        print("# " + line)
    if spe:
        print(f"# SPE interpreter: {python}")
    print(f"# cohorts: {a.n} tumours each, {ACTIVE[0]}-{ACTIVE[1]} active signatures per "
          "tumour, Dirichlet(1) weights, burden log-uniform (DBS78 "
          f"{BURDEN['DBS78'][0]}-{BURDEN['DBS78'][1]}, ID83 {BURDEN['ID83'][0]}-"
          f"{BURDEN['ID83'][1]} mutations), Poisson counts")
    print(f"# nmfbio: extract(ranks={lo}..{hi}, restarts={restarts}, seed=0)")
    if spe:
        fewer = "; FEWER: favours SPE on time" if spe_reps < restarts else ""
        print(f"# SPE: ranks {slo}-{shi}, nmf_replicates={spe_reps} per rank (nmfbio: ranks "
              f"{lo}-{hi}, {restarts} restarts{fewer}), cpu={a.spe_cpu}, "
              "stop_after_extraction=True, other settings default")
    else:
        print(f"# SPE: not available — {why}")
    print("# note: real genomes carry fewer DBS (~1 % of SBS, median tens to low hundreds per "
          "genome) than these DBS cohorts; they are the workable case, not the typical one")
    sys.stdout.flush()

    cases = []
    for name, names, seed in cohorts:
        mtype = type_of(names)
        ref = refs.get(mtype)
        missing = [x for x in names if x not in ref.columns]
        if missing:
            raise SystemExit(f"{name}: not in {REFERENCE[mtype]}: {missing}")
        S = ref[list(names)]
        C = cosine_matrix(S.to_numpy(float), S.to_numpy(float))
        np.fill_diagonal(C, 0)
        i, j = np.unravel_index(np.argmax(C), C.shape)
        cat = cosmic_cohort(S, mtype, a.n, seed)
        cases.append(Case(name, mtype, S, cat))
        tot = cat.sum(axis=0)
        empty = list(cat.index[cat.sum(axis=1) == 0])
        shown = ", ".join(empty[:4]) + (", …" if len(empty) > 4 else "")
        pair = f"{names[i]}/{names[j]} {C[i, j]:.2f}" if len(names) > 1 else "-"
        print(f"# {name}: {mtype}, {', '.join(names)}; seed {seed}; mutations per tumour "
              f"median {tot.median():.0f} (min {tot.min():.0f}, max {tot.max():.0f}); "
              f"largest planted cosine {pair}; all-zero channels: {len(empty)}"
              + (f" ({shown})" if empty else ""))
    for mtype, src in refs.source.items():
        print(f"# {mtype} reference: {src}")

    t = time.perf_counter()
    warm = cases[0].cat.iloc[:, :30]
    quiet_extract(warm, ranks=range(1, 3), restarts=2, seed=0)
    print(f"# nmfbio warm-up (numba compilation, once per process): "
          f"{time.perf_counter() - t:.1f} s, excluded below\n", flush=True)

    head = (f"{'cohort':<24} {'tool':<7} {'time s':>8} {'rank':>9} {'prec':>5} {'rec':>5} "
            f"{'F1':>5} {'minCos':>6}  load")
    print("nmfbio, as each cohort finishes:")
    print(head)
    for c in cases:
        c.ours, c.W, detected = run_nmfbio(c.cat, c.S, ranks, restarts)
        if detected != c.mtype:
            print(f"  WARNING: nmfbio detected {detected}, generated {c.mtype}")
        print(row(c.name, c.S.shape[1], c.ours), flush=True)

    tmpdir = None if a.keep else tempfile.TemporaryDirectory(prefix="nmfbio_spe_types_")
    tmp = Path(a.keep) if a.keep else Path(tmpdir.name)
    if spe:
        print("\nSPE, as each cohort finishes:")
        print(head)
        for c in cases:
            work = tmp / c.name.replace(",", "_").replace(":", "_s")
            c.theirs, c.W_spe = run_spe(python, c.cat, c.S, c.mtype, spe_ranks, spe_reps,
                                        a.spe_cpu, work)
            print(row(c.name, c.S.shape[1], c.theirs)
                  + ("" if c.theirs.score else f"  {c.theirs.note}"), flush=True)

    print("\nSummary")
    print(head)
    print("-" * len(head))
    for c in cases:
        print(row(c.name, c.S.shape[1], c.ours))
        if c.theirs is not None:
            print(row(c.name, c.S.shape[1], c.theirs))
        elif not spe:
            print(f"{c.name:<24} {'SPE':<7} not available ({why})")
    print("(rank: chosen / planted; minCos: lowest cosine among the Hungarian-matched pairs; "
          "TP at cosine >= 0.90)")

    print(f"\nTarget (issue 18): nmfbio F1 >= {TARGET_F1} on each cohort")
    for c in cases:
        f1 = c.ours.score["f1"]
        spe_f1 = ("" if c.theirs is None or c.theirs.score is None
                  else f"  (SPE F1 {c.theirs.score['f1']:.2f})")
        print(f"  {c.name:<24} F1 {f1:.2f}  {'PASS' if f1 >= TARGET_F1 else 'FAIL'}{spe_f1}")

    print("\nMatches (recovered signature: its two closest planted ones, cosine)")
    for c in cases:
        print(f"  {c.name}:")
        for line in match_lines(c.S, c.W, "nmfbio"):
            print(line)
        if c.W_spe is not None:
            for line in match_lines(c.S, c.W_spe, "SPE"):
                print(line)
    if spe:
        print(f"\nSPE settings: ranks {slo}-{shi}, nmf_replicates={spe_reps}, cpu={a.spe_cpu}, "
              f"stop_after_extraction=True; nmfbio ranks {lo}-{hi}, restarts={restarts}")
        for c in cases:
            if c.theirs is not None and c.theirs.seconds is not None:
                print(f"SPE {c.name}: {c.theirs.note}; per rank: {c.theirs.per_rank}")
    if tmpdir is not None:
        tmpdir.cleanup()


if __name__ == "__main__":
    main()
