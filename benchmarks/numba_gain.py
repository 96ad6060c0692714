"""What numba buys: the same KL coordinate-descent H-step, compiled vs vectorised numpy.

The solver's KL update (``nmfbio/solver/_ccd.py``) is cyclic coordinate descent with Newton
steps and a concavity-based acceptance test for steps to the left (Hsieh & Dhillon 2011).
This script times one H-step (all columns, all components, two Newton steps each) with the
compiled kernel and with the best plain-numpy formulation of the same algorithm (vectorised
over samples, one component at a time), checks that both reach the same objective, and
prints the ratio. numba is a dependency only because this ratio is well above 3.

Run: ``.venv/bin/python benchmarks/numba_gain.py``
"""

from __future__ import annotations

import datetime
import os
import platform
import time

import numpy as np

from nmfbio.solver import _ccd
from nmfbio.solver.losses import KL

TINY = 1e-300


def numpy_kl_hstep(X, W, H, n_inner=2):
    """The same CCD H-step, vectorised over samples with numpy."""
    H = H.copy()
    Y = W @ H
    wsum = W.sum(axis=0)
    for k in range(W.shape[1]):
        w = W[:, k]
        wc = w[:, None]
        R = X / np.maximum(Y, TINY)
        q1 = w @ R
        q2 = (w * w) @ (R / np.maximum(Y, TINY))
        for _ in range(n_inner):
            g = wsum[k] - q1
            d = np.where(q2 > 0, -g / np.where(q2 > 0, q2, 1.0), np.where(g > 0, -H[k], 0.0))
            d = np.maximum(d, -H[k])
            left = d < 0
            for _bt in range(50):
                if not left.any():
                    break
                Yd = np.maximum(Y + wc * d, TINY)
                gn = wsum[k] - w @ (X / Yd)
                bad = left & (gn + g < 0)
                if not bad.any():
                    break
                d = np.where(bad, 0.5 * d, d)
            H[k] += d
            np.maximum(H[k], 0.0, out=H[k])
            Y += wc * d
            R = X / np.maximum(Y, TINY)
            q1 = w @ R
            q2 = (w * w) @ (R / np.maximum(Y, TINY))
    return H


def numba_kl_hstep(X, W, H, n_inner=2):
    Xc = np.ascontiguousarray(X.T)[None]
    F = np.ascontiguousarray(W.T)[None]
    U = np.ascontiguousarray(H.T)[None].copy()
    out = np.zeros((1, X.shape[1]))
    _ccd.ccd_dense(Xc, np.ones((1, 1, X.shape[0]), bool), False, F, F.sum(axis=2), U,
                   np.ones(1, bool), True, np.zeros((1, W.shape[1])), n_inner, False, out)
    return U[0].T


def best_time(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    print(f"# numba vs numpy, same KL CCD H-step — {datetime.date.today()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(f"{'case':<28}{'numpy s':>10}{'numba s':>10}{'ratio':>8}  objective (numpy / numba)")
    rng = np.random.default_rng(0)
    for name, (m, n, r), reps in (("catalog 96x500 r5", (96, 500, 5), 5),
                                  ("expression 2000x3000 r20", (2000, 3000, 20), 2)):
        Wt = rng.gamma(0.5, size=(m, r))
        Ht = rng.gamma(0.5, size=(r, n)) * 2000 / m
        X = rng.poisson(Wt @ Ht).astype(float)
        W0 = rng.random((m, r)) + 0.1
        H0 = rng.random((r, n)) + 0.1
        numba_kl_hstep(X[:20, :20], W0[:20], H0[:, :20])  # compile outside the timing
        t_np, H_np = best_time(lambda: numpy_kl_hstep(X, W0, H0), reps)  # noqa: B023
        t_nb, H_nb = best_time(lambda: numba_kl_hstep(X, W0, H0), reps)  # noqa: B023
        o_np, o_nb = KL().value(X, W0, H_np), KL().value(X, W0, H_nb)
        print(f"{name:<28}{t_np:>10.4f}{t_nb:>10.4f}{t_np / t_nb:>8.1f}  {o_np:.6g} / {o_nb:.6g}")


if __name__ == "__main__":
    main()
