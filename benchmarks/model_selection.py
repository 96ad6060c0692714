"""Model selection speed: ``select_rank`` and ``consensus`` on a 96 × 500 Poisson catalog.

Prints, for the record in the issue notes:

* ``select_rank`` over ranks 1–10 with 3 hold-out repeats (defaults otherwise): wall time
  (target: under 30 s on the 2-core development machine) and the rank it picks (planted: 5);
* ``consensus`` with 100 restarts at rank 5 (KL): wall time (target: under 5 s), against a
  plain baseline that a user would write: 100 sequential scikit-learn ``NMF(solver="mu",
  beta_loss="kullback-leibler")`` fits from random starts with the same tolerance, followed by
  a naive matching loop (Hungarian matching of every run to the first); the ratio and the
  agreement of both consensus parts with the planted ones are printed.

Run: ``.venv/bin/python benchmarks/model_selection.py``
"""

from __future__ import annotations

import datetime
import os
import platform
import time
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

import nmfbio
from nmfbio.model_selection.matching import cosine_matrix


def catalog(seed=0, m=96, n=500, r=5):
    rng = np.random.default_rng(seed)
    W = rng.dirichlet(np.full(m, 0.3), size=r).T
    H = rng.gamma(0.7, 1.0, size=(r, n))
    H = H / H.sum(axis=0) * rng.lognormal(np.log(2000), 0.7, size=n)
    return rng.poisson(W @ H).astype(float), W


def best_match(A, B):
    C = cosine_matrix(A, B)
    i, j = linear_sum_assignment(-C)
    return C[i, j].min()


def sklearn_consensus(X, rank, restarts, tol, seed):
    from sklearn.decomposition import NMF

    Ws = []
    for b in range(restarts):
        model = NMF(rank, solver="mu", beta_loss="kullback-leibler", init="random",
                    random_state=seed + b, tol=tol, max_iter=1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X.T)
        Ws.append(model.components_.T)
    ref = Ws[0]
    aligned = []
    for W in Ws:  # naive matching loop
        C = cosine_matrix(ref, W)
        _, cols = linear_sum_assignment(-C)
        aligned.append(W[:, cols] / W[:, cols].sum(axis=0))
    return np.median(np.stack(aligned), axis=0)


def main():
    print(f"# model selection benchmark — {datetime.date.today()}, "
          f"{platform.machine()}, {os.cpu_count()} cores, nmfbio {nmfbio.__version__}")
    X, W = catalog()
    nmfbio.fit(X[:, :50], 2, loss="kl", seed=0)  # compile the kernels outside the timings

    t = time.perf_counter()
    sel = nmfbio.select_rank(X, ranks=range(1, 11), repeats=3, seed=0)
    t_rank = time.perf_counter() - t
    print(f"select_rank, ranks 1-10, 3 repeats, 96x500: {t_rank:6.1f} s (target < 30 s) "
          f"{'PASS' if t_rank < 30 else 'FAIL'}; picked rank {sel.best} (planted 5)")

    t = time.perf_counter()
    res = nmfbio.consensus(X, 5, restarts=100, loss="kl", seed=0, tol=1e-4)
    t_ours = time.perf_counter() - t
    print(f"consensus, 100 restarts, rank 5, KL:       {t_ours:6.1f} s (target < 5 s) "
          f"{'PASS' if t_ours < 5 else 'FAIL'}; {int(res.stable.sum())}/5 stable, "
          f"min cosine to planted {best_match(W, res.W):.3f}")

    t = time.perf_counter()
    centre = sklearn_consensus(X, 5, 100, 1e-4, 0)
    t_sk = time.perf_counter() - t
    print(f"100 sequential sklearn mu fits + matching:  {t_sk:6.1f} s; min cosine to planted "
          f"{best_match(W, centre):.3f}")
    print(f"ratio nmfbio / sklearn baseline: {t_ours / t_sk:.3f} "
          f"({t_sk / t_ours:.1f}x faster)")


if __name__ == "__main__":
    main()
