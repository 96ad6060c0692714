"""Gene-expression programs: ``nmfbio.programs.find`` against cNMF (Kotliar et al. 2019).

Prints, for the record in the issue notes (issue 5, "Performance"):

**1. Side by side with cNMF** on the same matrix: negative-binomial counts from known
programs (``tests/expression_data.py::programs_counts``: 2,000 cells × 1,000 genes, 5 cell
types + 1 shared "activity" program = 6 programs, dense, seed 0; ``--big-side`` adds a
second, larger matrix). The matrix is written once as .h5ad (raw counts in ``X``); each tool
then runs in its own child process, which reads that file and does the whole job:

* **nmfbio**: ``anndata.read_h5ad`` + ``nmfbio.programs.find(adata, ranks, n_top_genes=G,
  restarts=R, seed=0)`` — gene selection, normalisation, R restarts per rank, rank chosen
  by its own rule (stability vs error), usages refitted, spectra and gene scores on all
  genes. Compiled kernels come from numba's on-disk cache: a small warm-up child fills it
  first (its time is printed, not counted).
* **cNMF** (``pip install cnmf``, in its own environment, ``--cnmf-python``): its documented
  Python workflow ``cNMF(outdir, name).prepare(counts.h5ad, components=ranks, n_iter=R,
  seed=0, num_highvar_genes=G)`` (defaults otherwise: Frobenius loss, scikit-learn ``cd``
  solver, ``tol=1e-4``, ``max_iter=1000``, random init), ``factorize``, ``combine``,
  ``k_selection_plot`` (its stability / error per rank: the counterpart of nmfbio's rank
  table; cNMF leaves the choice of k to the user, who reads the plot), and
  ``consensus(k=K, density_threshold=0.5, show_clustering=False)`` at **K = the true number
  of programs** (6; cNMF's k selection is manual, so it is given the right answer), then
  ``load_results``. Its programs are the ``spectra_tpm`` output (programs × all genes, TPM
  units, the counterpart of nmfbio's spectra on all genes in counts-per-cell units).
  cNMF is run twice: **serial** (``factorize(worker_i=0, total_workers=1)``, one process,
  so the child's peak RSS is the whole job's) and **parallel** (its
  ``factorize_multi_process(n_cores)``: the same pool map, each worker reporting its own
  VmHWM; the forked workers share the parent's pages, so the job's memory is printed as the
  peak of the summed proportional set size (Pss) of the child and its workers, sampled every
  1 s: reading ``smaps_rollup`` every 0.1 s doubled cNMF's parallel time). With the BLAS
  and OpenMP threads at their defaults (2 per worker on 2 cores) the parallel run is slower
  than the serial one; ``--cnmf-worker-threads 1`` adds a run with them pinned to 1 per
  worker. The time target uses the fastest cNMF mode, the memory target the leanest one.

Measured per child: wall time (interpreter start-up to exit, seen by the parent; and the
work alone, measured inside the child after its imports), peak resident set size (VmHWM of
``/proc/self/status`` at the end of the child; the child's VmHWM after imports is printed
too), the rank used, and the programs. Agreement: cosine similarity of the spectra on all
genes after Hungarian matching (scale-free: each program is normalised), nmfbio vs cNMF and
each vs the true programs (minimum over matched pairs; mean in brackets). Usages are
compared with the true usages the same way, as information.

Targets (issue 5): nmfbio at least 5× faster than cNMF (ratio nmfbio / cNMF ≤ 0.2), peak
memory no more than cNMF's, programs agreeing with cNMF's at cosine ≥ 0.9 (each matched
pair); as information, both vs the true programs.

**2. A larger sparse case**: 50,000 cells × 2,000 genes, 6 programs, built in blocks of
cells as CSR (never a dense cells × genes array; generator below, the same model as
``programs_counts`` with a smaller library size so that the matrix is about as sparse as
real over-dispersed-gene data), saved as .npz; a child loads it into an AnnData (counts in
``X`` only, one copy) and runs ``find(ranks=5..7, n_top_genes=2000, restarts=10)``.
Printed: wall time, peak RSS (target ≤ 24 GB), the size a dense float64 matrix would take
(the peak should stay well below it: the full matrix is not densified), the rank chosen and
the cosine to the true programs.

Timings depend on other load: the share of CPU time other processes used during each run
(from /proc/stat) is printed with it; above 5 % the run is marked busy.

Run (2 cores)::

    .venv/bin/python benchmarks/programs.py                 # both parts, ~4 min
    .venv/bin/python benchmarks/programs.py --cnmf-worker-threads 1   # + pinned-thread cNMF
    .venv/bin/python benchmarks/programs.py --quick         # small, ~15 s
    .venv/bin/python benchmarks/programs.py --skip-large    # part 1 only
    .venv/bin/python benchmarks/programs.py --big-side --skip-large --cnmf-workers 1
                                                  # + 10,000 × 2,000 vs serial cNMF, ~13 min
    .venv/bin/python benchmarks/programs.py --cnmf-python none   # nmfbio alone

cNMF in its own environment (keeps the project's clean)::

    python3 -m venv /tmp/cnmf_venv && /tmp/cnmf_venv/bin/pip install cnmf
    /tmp/cnmf_venv/bin/pip install -e .     # the child imports this file's helpers only
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _load import OtherLoad

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CNMF_PYTHON = "/tmp/cnmf_venv/bin/python"
TIME_RATIO_TARGET = 0.2      # nmfbio / cNMF
COSINE_TARGET = 0.9
LARGE_MEMORY_TARGET_GB = 24.0


# ----------------------------------------------------------------------------- measurement
def vmhwm_mb() -> float:
    """Peak resident set size of this process (VmHWM; ru_maxrss would include a parent's
    peak carried over fork + exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class TreePss:
    """Peak of the summed Pss of this process and its descendants, sampled in a thread."""

    def __init__(self, every=1.0):
        self.peak = 0.0
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        me = os.getpid()
        while not self._stop.is_set():
            pids, todo = [], [me]
            while todo:
                p = todo.pop()
                pids.append(p)
                todo.extend(children_of(p))
            self.peak = max(self.peak, sum(pss_mb(p) for p in pids))
            self._stop.wait(self._every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


# ----------------------------------------------------------------------------------- data
def sparse_programs_counts(n_cells=50_000, n_genes=2000, n_types=5, seed=0, lib_median=600.0,
                           block=2000):
    """CSR counts (cells × genes) from ``n_types`` identity programs + 1 shared activity
    program, the model of ``tests/expression_data.py::programs_counts`` (NB counts, gamma-
    Poisson with shape 5; 30 % of cells use the activity program at 0.2–0.6), with library
    sizes lognormal around ``lib_median``; built ``block`` cells at a time, so no dense
    cells × genes array exists (only a ``block`` × genes one).

    Returns (csr, programs genes × k with columns summing to 1, usage cells × k)."""
    import scipy.sparse as sp

    sys.path.insert(0, str(ROOT / "tests"))
    from expression_data import planted_programs

    rng = np.random.default_rng(seed)
    k = n_types + 1
    programs = planted_programs(n_genes, k, rng)
    usages, parts = [], []
    for start in range(0, n_cells, block):
        n = min(block, n_cells - start)
        types = rng.integers(0, n_types, size=n)
        usage = np.zeros((n, k))
        usage[np.arange(n), types] = 1.0
        a = rng.uniform(0.2, 0.6, size=n) * (rng.random(n) < 0.3)
        usage *= (1 - a)[:, None]
        usage[:, -1] = a
        lib = rng.lognormal(np.log(lib_median), 0.4, size=n)
        mu = (usage @ programs.T) * lib[:, None]
        parts.append(sp.csr_matrix(rng.poisson(rng.gamma(5.0, mu / 5.0)).astype(np.float64)))
        usages.append(usage)
    return sp.vstack(parts, format="csr"), programs, np.vstack(usages)


def write_h5ad(path, counts_dense, cells=None, genes=None):
    import anndata

    ad = anndata.AnnData(counts_dense)
    ad.obs_names = cells if cells is not None else [f"cell{i}" for i in range(ad.n_obs)]
    ad.var_names = genes if genes is not None else [f"gene{g}" for g in range(ad.n_vars)]
    ad.write_h5ad(path)


# -------------------------------------------------------------------------------- children
def child_nmfbio(spec: dict) -> dict:
    import anndata
    import scipy.sparse as sp

    import nmfbio

    after_imports = vmhwm_mb()
    t = time.perf_counter()
    if spec["data"].endswith(".npz"):
        X = sp.load_npz(spec["data"]).tocsr()
        ad = anndata.AnnData(X)
        ad.obs_names = [f"cell{i}" for i in range(X.shape[0])]
        ad.var_names = [f"gene{g}" for g in range(X.shape[1])]
    else:
        ad = anndata.read_h5ad(spec["data"])
    loaded = vmhwm_mb()
    res = nmfbio.programs.find(ad, ranks=spec["ranks"], n_top_genes=spec["n_top_genes"],
                               restarts=spec["restarts"], seed=spec["seed"])
    work = time.perf_counter() - t
    np.savez(spec["out"], programs=res.programs.to_numpy(), usage=res.usage.to_numpy(),
             genes=np.array(res.programs.index, dtype=str))
    return dict(work_s=work, rank=int(res.rank), after_imports_mb=after_imports,
                after_load_mb=loaded, sparse=bool(sp.issparse(ad.X)), nmfbio=nmfbio.__version__,
                table=res.table.round(4).reset_index().to_dict(orient="list"))


def _cnmf_pool_worker(args):
    """cNMF's ``factorize_mp_signature``, plus the worker's own peak RSS."""
    i, n, obj = args
    obj.factorize(worker_i=i, total_workers=n)
    return vmhwm_mb()


def child_cnmf(spec: dict) -> dict:
    import warnings
    from multiprocessing import Pool

    import matplotlib

    matplotlib.use("Agg")
    import cnmf
    from cnmf import cNMF

    after_imports = vmhwm_mb()
    sampler = TreePss() if spec["workers"] > 1 else None
    steps = {}
    t0 = t = time.perf_counter()
    obj = cNMF(output_dir=spec["outdir"], name="bench")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj.prepare(counts_fn=spec["data"], components=spec["ranks"], n_iter=spec["restarts"],
                    seed=spec["seed"], num_highvar_genes=spec["n_top_genes"])
        steps["prepare"] = time.perf_counter() - t
        t = time.perf_counter()
        worker_peaks = []
        if spec["workers"] > 1:  # = obj.factorize_multi_process(workers), + workers' VmHWM
            with Pool(spec["workers"]) as pool:
                worker_peaks = pool.map(_cnmf_pool_worker, [(i, spec["workers"], obj)
                                                            for i in range(spec["workers"])])
        else:
            obj.factorize(worker_i=0, total_workers=1)
        steps["factorize"] = time.perf_counter() - t
        t = time.perf_counter()
        obj.combine()
        steps["combine"] = time.perf_counter() - t
        t = time.perf_counter()
        obj.k_selection_plot(close_fig=True)
        steps["k_selection"] = time.perf_counter() - t
        t = time.perf_counter()
        obj.consensus(k=spec["k"], density_threshold=spec["density_threshold"],
                      show_clustering=False, close_clustergram_fig=True)
        usage, scores, spectra_tpm, top = obj.load_results(
            K=spec["k"], density_threshold=spec["density_threshold"])
        steps["consensus"] = time.perf_counter() - t
    work = time.perf_counter() - t0
    tree = sampler.stop() if sampler else None
    from cnmf.cnmf import load_df_from_npz

    stats = load_df_from_npz(obj.paths["k_selection_stats"])
    np.savez(spec["out"], programs=spectra_tpm.to_numpy(), usage=usage.to_numpy(),
             genes=np.array(spectra_tpm.index, dtype=str))
    return dict(work_s=work, rank=int(spec["k"]), after_imports_mb=after_imports, steps=steps,
                worker_peaks_mb=worker_peaks, tree_pss_peak_mb=tree,
                cnmf=getattr(cnmf, "__version__", "?"),
                table=stats[["k", "silhouette", "prediction_error"]].round(4)
                .to_dict(orient="list"))


def child_main(kind: str, spec_json: str) -> None:
    spec = json.loads(spec_json)
    out = child_nmfbio(spec) if kind == "nmfbio" else child_cnmf(spec)
    out["peak_mb"] = vmhwm_mb()
    print("RESULT " + json.dumps(out), flush=True)


def run_child(python: str, kind: str, spec: dict, timeout=None, threads=None) -> dict:
    load = OtherLoad()
    t = time.perf_counter()
    env = dict(os.environ, NMFBIO_QUIET="1", PYTHONWARNINGS="ignore")
    if threads:  # BLAS / OpenMP threads of the child (and of the workers it forks)
        env.update({v: str(threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                              "MKL_NUM_THREADS")})
    proc = subprocess.run([python, str(Path(__file__).resolve()), "--child", kind,
                           json.dumps(spec)], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-15:])
        return dict(error=f"{kind} child failed (rc {proc.returncode}):\n{tail}", wall_s=wall,
                    load=load.text())
    out = json.loads(lines[-1][len("RESULT "):])
    out.update(wall_s=wall, load=load.text(), out=spec["out"])
    return out


# ------------------------------------------------------------------------------- comparing
def matched_cosines(A, B):
    """Cosines of Hungarian-matched columns of A and B (genes × programs)."""
    from scipy.optimize import linear_sum_assignment

    from nmfbio.model_selection.matching import cosine_matrix

    C = cosine_matrix(np.asarray(A, float), np.asarray(B, float))
    i, j = linear_sum_assignment(-C)
    return C[i, j]


def cos_text(c) -> str:
    return f"{c.min():.3f} ({c.mean():.3f})"


def load_programs(path, genes):
    """Programs (genes × k) aligned to ``genes`` order, and usage (cells × k)."""
    z = np.load(path)
    P, g = z["programs"], list(z["genes"])
    if P.shape[0] != len(g):  # cNMF: programs × genes
        P = P.T
    pos = {name: i for i, name in enumerate(g)}
    return P[[pos[x] for x in genes]], z["usage"]


def fmt_mb(mb) -> str:
    return "-" if mb is None else (f"{mb / 1024:.2f} GB" if mb >= 1024 else f"{mb:.0f} MB")


def machine_lines(cnmf_python) -> list[str]:
    from importlib.metadata import version

    import numba
    import scipy

    import nmfbio

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024**2
    lines = [f"# gene-expression programs benchmark — {datetime.datetime.now():%Y-%m-%d %H:%M}, "
             f"{platform.machine()} {platform.processor() or ''}".rstrip()
             + f", {os.cpu_count()} cores, {mem:.0f} GB RAM",
             f"# nmfbio {nmfbio.__version__} (commit {commit}), numpy {np.__version__}, scipy "
             f"{scipy.__version__}, anndata {version('anndata')}, numba {numba.__version__} "
             f"({numba.config.NUMBA_NUM_THREADS} threads)"]
    if cnmf_python:
        v = subprocess.run([cnmf_python, "-c", "import cnmf, sklearn, scanpy, numpy; print("
                            "cnmf.__version__, sklearn.__version__, scanpy.__version__, "
                            "numpy.__version__)"], capture_output=True, text=True)
        if v.returncode == 0:
            c, sk, sc, npv = v.stdout.split()
            lines.append(f"# cNMF {c} ({cnmf_python}): scikit-learn {sk}, scanpy {sc}, "
                         f"numpy {npv}")
    return lines


# ------------------------------------------------------------------------------------ parts
def side_by_side(args, work: Path, name, n_cells, n_genes, n_types, n_top_genes,
                 cnmf_python) -> list[bool]:
    sys.path.insert(0, str(ROOT / "tests"))
    from expression_data import programs_counts

    ad, P_true, U_true = programs_counts(n_cells=n_cells, n_genes=n_genes, n_types=n_types,
                                         seed=0)
    data = work / f"{name}.h5ad"
    write_h5ad(data, np.asarray(ad.X), list(ad.obs_names), list(ad.var_names))
    genes = list(ad.var_names)
    k_true = n_types + 1
    spec = dict(data=str(data), ranks=list(args.ranks), n_top_genes=n_top_genes,
                restarts=args.restarts, seed=0)
    print(f"\n## 1. side by side: {name}: {n_cells} cells × {n_genes} genes, {k_true} true "
          f"programs (dense NB counts, programs_counts seed 0); ranks "
          f"{args.ranks[0]}..{args.ranks[-1]}, {args.restarts} restarts (cNMF n_iter) per "
          f"rank, {n_top_genes} over-dispersed genes, seed 0")
    from nmfbio.model_selection.matching import cosine_matrix

    C = cosine_matrix(P_true, P_true)
    print("  each run in its own child process; times: wall = child start to exit, work = "
          "after imports. For scale: distinct true programs have cosine "
          f"{C[~np.eye(k_true, dtype=bool)].max():.2f} at most")
    runs = {}
    print(f"  ... nmfbio {name}", file=sys.stderr, flush=True)
    runs["nmfbio"] = run_child(sys.executable, "nmfbio",
                               dict(spec, out=str(work / f"nb_{name}.npz")))
    if cnmf_python:
        modes = [("cNMF serial", 1, None)]
        if args.cnmf_workers > 1:
            modes.append((f"cNMF {args.cnmf_workers} workers", args.cnmf_workers, None))
            if args.cnmf_worker_threads:
                modes.append((f"cNMF {args.cnmf_workers}w x {args.cnmf_worker_threads}t",
                              args.cnmf_workers, args.cnmf_worker_threads))
        for i, (label, nw, threads) in enumerate(modes):
            outdir = work / f"cnmf_{name}_{i}"
            print(f"  ... {label} {name}", file=sys.stderr, flush=True)
            runs[label] = run_child(cnmf_python, "cnmf", dict(
                spec, out=str(work / f"cnmf_{name}_{i}.npz"), outdir=str(outdir), k=k_true,
                workers=nw, density_threshold=args.density_threshold), threads=threads)
    for label, r in runs.items():
        if "error" in r:
            print(f"  {label}: {r['error']}")
    ok_runs = {k: v for k, v in runs.items() if "error" not in v}
    progs = {label: load_programs(r["out"], genes) for label, r in ok_runs.items()}
    hdr = (f"  {'tool':<18}{'wall':>9}{'work':>9}{'peak RSS':>11}{'after imp.':>11}"
           f"{'rank':>6}  {'cos vs true (min (mean))':<26}{'usage vs true':<16}{'load'}")
    print(hdr)
    for label, r in ok_runs.items():
        P, U = progs[label]
        rank = f"{r['rank']}" + ("*" if label != "nmfbio" else "")
        peak = r["peak_mb"]
        mem = fmt_mb(peak)
        print(f"  {label:<18}{r['wall_s']:>8.1f}s{r['work_s']:>8.1f}s{mem:>11}"
              f"{fmt_mb(r['after_imports_mb']):>11}{rank:>6}  "
              f"{cos_text(matched_cosines(P, P_true)):<26}"
              f"{cos_text(matched_cosines(U, U_true)):<16}{r['load']}")
    print("  (* cNMF's k is chosen by the user from its k-selection plot: given the true "
          f"k = {k_true}; nmfbio chose its rank itself)")
    for label, r in ok_runs.items():
        if label == "nmfbio":
            t = r["table"]
            print("  nmfbio rank table: " + ", ".join(
                f"r={a}: stab {b:.3f}/err {c:.3f}" for a, b, c in
                zip(t["rank"], t["stability_mean"], t["error"], strict=True)))
        else:
            t = r["table"]
            print(f"  {label}: steps " + ", ".join(f"{k} {v:.1f}s" for k, v in
                                                   r["steps"].items()))
            print(f"  {label} k-selection: " + ", ".join(
                f"k={int(a)}: silh {b:.3f}" for a, b in
                zip(t["k"], t["silhouette"], strict=True)))
            if r.get("worker_peaks_mb"):
                print(f"  {label}: workers' VmHWM " + ", ".join(
                    fmt_mb(x) for x in r["worker_peaks_mb"]) + "; peak summed Pss of the job "
                    f"(child + workers, sampled every 1 s) {fmt_mb(r['tree_pss_peak_mb'])}")
    oks = []
    nb = ok_runs.get("nmfbio")
    cn = {k: v for k, v in ok_runs.items() if k != "nmfbio"}
    if nb and cn:
        fastest = min(cn, key=lambda k: cn[k]["wall_s"])
        ratio = nb["wall_s"] / cn[fastest]["wall_s"]
        ratio_work = nb["work_s"] / cn[fastest]["work_s"]
        ok = ratio <= TIME_RATIO_TARGET
        oks.append(ok)
        print(f"  time: nmfbio / {fastest} = {ratio:.3f} wall ({1 / ratio:.1f}x faster), "
              f"{ratio_work:.3f} work ({1 / ratio_work:.1f}x); target ≤ {TIME_RATIO_TARGET} "
              f"{'PASS' if ok else 'FAIL'}")

        def job_mb(label):
            r = cn[label]
            return r["tree_pss_peak_mb"] if r.get("tree_pss_peak_mb") else r["peak_mb"]

        leanest = min(cn, key=job_mb)
        ok = nb["peak_mb"] <= job_mb(leanest)
        oks.append(ok)
        print(f"  memory: nmfbio peak {fmt_mb(nb['peak_mb'])} vs {leanest} "
              f"{fmt_mb(job_mb(leanest))} (ratio {nb['peak_mb'] / job_mb(leanest):.2f}); "
              f"target ≤ 1 {'PASS' if ok else 'FAIL'}")
        for label in cn:
            c = matched_cosines(progs["nmfbio"][0], progs[label][0])
            ok = c.min() >= COSINE_TARGET
            oks.append(ok)
            print(f"  programs nmfbio vs {label} (Hungarian-matched cosine, all genes): min "
                  f"{c.min():.3f}, mean {c.mean():.3f}, per program "
                  f"{' '.join(f'{x:.3f}' for x in np.sort(c))}; target ≥ {COSINE_TARGET} "
                  f"{'PASS' if ok else 'FAIL'}")
    elif nb:
        print("  cNMF not run: no comparison (nmfbio alone)")
    if nb and nb["rank"] != k_true:
        print(f"  note: nmfbio chose rank {nb['rank']}, true {k_true}")
    return oks


def large_sparse(args, work: Path) -> list[bool]:
    n_cells, n_genes = args.large_cells, args.large_genes
    t = time.perf_counter()
    X, P_true, U_true = sparse_programs_counts(n_cells=n_cells, n_genes=n_genes, n_types=5,
                                               seed=0, lib_median=args.large_lib)
    gen = time.perf_counter() - t
    import scipy.sparse as sp

    path = work / "large.npz"
    sp.save_npz(path, X, compressed=False)
    dense_mb = n_cells * n_genes * 8 / 1024**2
    csr_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 1024**2
    density = X.nnz / (n_cells * n_genes)
    genes = [f"gene{g}" for g in range(n_genes)]
    del X
    ranks = list(args.large_ranks)
    print(f"\n## 2. large sparse: {n_cells} cells × {n_genes} genes, 6 true programs, CSR "
          f"built in blocks of 2000 cells ({gen:.0f} s), {100 * density:.1f}% non-zero, median "
          f"library {args.large_lib:.0f}; find(ranks {ranks[0]}..{ranks[-1]}, restarts "
          f"{args.large_restarts}, n_top_genes {min(args.n_top_genes_large, n_genes)}, seed 0)")
    print(f"  CSR counts {fmt_mb(csr_mb)}; a dense float64 cells × genes matrix would be "
          f"{fmt_mb(dense_mb)}")
    print("  ... nmfbio large", file=sys.stderr, flush=True)
    r = run_child(sys.executable, "nmfbio", dict(
        data=str(path), ranks=ranks, n_top_genes=args.n_top_genes_large,
        restarts=args.large_restarts, seed=0, out=str(work / "large_out.npz")))
    if "error" in r:
        print(f"  {r['error']}")
        return [False]
    P, U = load_programs(work / "large_out.npz", genes)
    ok = r["peak_mb"] / 1024 <= LARGE_MEMORY_TARGET_GB
    print(f"  nmfbio: wall {r['wall_s']:.1f} s (work {r['work_s']:.1f} s), peak RSS "
          f"{fmt_mb(r['peak_mb'])} (after imports {fmt_mb(r['after_imports_mb'])}, after "
          f"loading {fmt_mb(r['after_load_mb'])}), input kept sparse: {r['sparse']}; rank "
          f"{r['rank']} (true 6); cosine vs true programs {cos_text(matched_cosines(P, P_true))}"
          f", usages {cos_text(matched_cosines(U, U_true))}; {r['load']}")
    t = r["table"]
    print("  rank table: " + ", ".join(f"r={a}: stab {b:.3f}/err {c:.3f}" for a, b, c in
                                       zip(t["rank"], t["stability_mean"], t["error"],
                                           strict=True)))
    print(f"  target: peak ≤ {LARGE_MEMORY_TARGET_GB:.0f} GB {'PASS' if ok else 'FAIL'}; "
          f"peak / dense matrix = {r['peak_mb'] / dense_mb:.2f} (peak minus after-imports = "
          f"{fmt_mb(r['peak_mb'] - r['after_imports_mb'])})")
    return [ok]


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small matrices, few restarts (<1 min)")
    ap.add_argument("--cnmf-python", default=DEFAULT_CNMF_PYTHON,
                    help="python of an environment with cnmf installed; 'none' to skip cNMF")
    ap.add_argument("--cnmf-workers", type=int, default=os.cpu_count() or 1,
                    help="workers of the parallel cNMF run (1: serial only)")
    ap.add_argument("--cnmf-worker-threads", type=int, default=0, metavar="T",
                    help="also run parallel cNMF with BLAS/OpenMP threads pinned to T per "
                    "worker (OMP/OPENBLAS/MKL_NUM_THREADS; default: not run)")
    ap.add_argument("--restarts", type=int, default=20)
    ap.add_argument("--ranks", type=int, nargs=2, default=(4, 8), metavar=("LO", "HI"))
    ap.add_argument("--n-top-genes", type=int, default=500,
                    help="over-dispersed genes for part 1 (of 1,000)")
    ap.add_argument("--density-threshold", type=float, default=0.5)
    ap.add_argument("--big-side", action="store_true",
                    help="also compare with cNMF on 10,000 cells × 2,000 genes (1,000 "
                    "over-dispersed)")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="keep the work files in DIR")
    args = ap.parse_args(argv)
    args.ranks = list(range(args.ranks[0], args.ranks[1] + 1))
    args.large_cells, args.large_genes, args.large_lib = 50_000, 2000, 600.0
    args.large_ranks, args.large_restarts, args.n_top_genes_large = range(5, 8), 10, 2000
    side_shape = (2000, 1000, 5)
    if args.quick:
        args.restarts, args.ranks, args.n_top_genes = 6, [5, 6, 7], 300
        side_shape = (600, 500, 5)
        args.large_cells, args.large_genes, args.large_restarts = 5000, 1000, 4
        args.large_ranks, args.n_top_genes_large = [6], 1000
        args.big_side, args.cnmf_workers = False, 1
    cnmf_python = None if args.cnmf_python.lower() == "none" else args.cnmf_python
    if cnmf_python:
        chk = subprocess.run([cnmf_python, "-c", "import cnmf"], capture_output=True, text=True)
        if chk.returncode != 0:
            print(f"# cNMF not importable with {cnmf_python}: nmfbio alone", file=sys.stderr)
            cnmf_python = None
    for line in machine_lines(cnmf_python):
        print(line)
    if args.quick:
        print("# QUICK mode: small matrices and few restarts; the numbers are not the record")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="nmfbio_prog_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        # fill numba's on-disk cache (not timed)
        sys.path.insert(0, str(ROOT / "tests"))
        from expression_data import programs_counts

        ad, _, _ = programs_counts(n_cells=200, n_genes=200, n_types=2, seed=1)
        write_h5ad(work / "warm.h5ad", np.asarray(ad.X))
        w = run_child(sys.executable, "nmfbio", dict(data=str(work / "warm.h5ad"), ranks=[2, 3],
                                                     n_top_genes=100, restarts=4, seed=0,
                                                     out=str(work / "warm.npz")))
        print(f"# warm-up child (numba cache): {w.get('wall_s', float('nan')):.1f} s"
              + (f" — {w['error']}" if "error" in w else ""))
        oks = side_by_side(args, work, "2k", *side_shape, args.n_top_genes, cnmf_python)
        if args.big_side:
            oks += side_by_side(args, work, "10k", 10_000, 2000, 5, 1000, cnmf_python)
        if not args.skip_large:
            oks += large_sparse(args, work)
        print(f"\n# {sum(oks)}/{len(oks)} targets met")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
