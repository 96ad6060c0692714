"""Fixed-seed results of the public entry points on small data, pinned to the values they
had before the package was reorganised (issue 15), so a move of code cannot change a number.

``python tests/pinned.py`` rewrites ``tests/data/pinned_results.npz`` from the current code
(only do that for a deliberate change of results, and say so in the commit);
``tests/test_pinned.py`` compares the current code with the file.
"""

from __future__ import annotations

import platform
import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PINS = HERE / "data" / "pinned_results.npz"


def fingerprint() -> str:
    """What bit-identical results depend on besides nmfbio: the machine and the numeric
    libraries (recorded with the pins, for whoever compares them on another machine)."""
    import numba
    import scipy

    cpu, simd = "", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not cpu:
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not simd:  # the vector width numba compiles for
                flags = set(line.split(":", 1)[1].split())
                simd = next((f for f in ("avx512f", "avx2", "avx") if f in flags), "sse")
    except OSError:
        pass
    return (f"{platform.machine()} {cpu} {simd} | numpy {np.__version__} "
            f"scipy {scipy.__version__} numba {numba.__version__}")


def compute() -> dict[str, np.ndarray]:
    """Every pinned array, by name ('<entry point>.<attribute>')."""
    sys.path.insert(0, str(HERE))
    from conftest import planted
    from expression_data import programs_counts

    import nmfbio
    from nmfbio.datasets import breast21
    from nmfbio.datasets.assemblies import planted_assemblies

    out: dict[str, np.ndarray] = {}
    X, _, _ = planted(m=30, n=40, r=3, seed=11)
    for loss in ("kl", "frobenius"):
        res = nmfbio.fit(X, 3, loss=loss, seed=4, restarts=3, max_iter=200)
        out[f"fit_{loss}.W"], out[f"fit_{loss}.H"] = res.W, res.H
        out[f"fit_{loss}.loss"] = np.array([res.loss, res.n_iter])
    con = nmfbio.consensus(X, 3, restarts=12, seed=5, max_iter=200, resample="poisson")
    out["consensus.W"], out["consensus.H"] = con.W, con.H
    out["consensus.stability"] = np.asarray(con.stability, dtype=float)
    sel = nmfbio.select_rank(X, range(1, 5), repeats=2, restarts=2, seed=6, max_iter=150)
    out["select_rank.table"] = sel.table.select_dtypes("number").to_numpy(dtype=float)
    out["select_rank.best"] = np.array([sel.best])
    ext = nmfbio.signatures.extract(breast21(), ranks=range(1, 4), restarts=10, repeats=2,
                                    cv_restarts=2, seed=7, max_iter=300)
    out["extract.signatures"] = ext.signatures.to_numpy()
    out["extract.exposures"] = ext.exposures.to_numpy()
    out["extract.rank"] = np.array([ext.rank])
    adata, _, _ = programs_counts(n_cells=300, n_genes=300, n_types=3, seed=8)
    with warnings.catch_warnings():  # 2 genes without counts: expected, not pinned
        warnings.simplefilter("ignore", nmfbio.DataWarning)
        prog = nmfbio.programs.find(adata, ranks=[3, 4], n_top_genes=150, restarts=6, seed=9,
                                    max_iter=200)
    out["find.programs"] = prog.programs.to_numpy()
    out["find.usage"] = prog.usage.to_numpy()
    import nmfbio.assemblies

    rec = planted_assemblies(n_units=16, n_assemblies=1, duration=80, size_range=(6, 6),
                             active_range=(0.05, 0.05), seed=5)
    det = nmfbio.assemblies.detect(rec.trains, bin_width=0.025, window=(0, 80), seed=3)
    out["detect.weights"] = det.weights.to_numpy()
    out["detect.activations"] = np.asarray(det.activations, dtype=float)
    out["detect.pvalues"] = np.asarray(det.pvalues, dtype=float)
    return out


if __name__ == "__main__":
    arrays = compute()
    PINS.parent.mkdir(exist_ok=True)
    np.savez_compressed(PINS, fingerprint=np.array(fingerprint()), **arrays)
    for name, a in arrays.items():
        print(f"{name:24s} {a.shape}")
