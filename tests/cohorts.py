"""Generated mutational cohorts with realistic, partly similar signatures (for tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nmfbio.io.sbs96 import CHANNELS, substitution_of


def realistic_signatures(k, seed):
    """k signatures over the 96 channels: a flat one (SBS5-like), a C>T-heavy clock-like one
    (SBS1-like), and spiky ones concentrated on one or two substitution classes."""
    rng = np.random.default_rng(seed)
    cls = np.array([substitution_of(c) for c in CHANNELS])
    classes = ["C>A", "C>G", "C>T", "T>A", "T>C", "T>G"]
    sigs = []
    for i in range(k):
        if i == 0:
            s = rng.dirichlet(np.full(96, 8.0))                     # flat
        elif i == 1:
            s = rng.dirichlet(np.full(96, 0.3)) * 0.2
            ct = np.array([c.startswith(("A[C>T]G", "C[C>T]G", "G[C>T]G", "T[C>T]G"))
                           for c in CHANNELS])
            s[ct] += rng.dirichlet(np.ones(ct.sum())) * 0.8        # CpG C>T
        else:
            focus = rng.choice(classes, size=rng.integers(1, 3), replace=False)
            boost = np.where(np.isin(cls, focus), 4.0, 0.15)
            s = rng.dirichlet(boost * 0.6)
        sigs.append(s / s.sum())
    return pd.DataFrame(np.array(sigs).T, index=list(CHANNELS),
                        columns=[f"T{i + 1}" for i in range(k)])


def cohort(k=4, n=200, seed=0, active=(1, 3)):
    """Poisson catalog (channels × samples) with sparse exposures of 500–20,000 mutations."""
    rng = np.random.default_rng(seed + 1000)
    S = realistic_signatures(k, seed)
    E = np.zeros((k, n))
    for j in range(n):
        m = rng.integers(active[0], active[1] + 1)
        which = rng.choice(k, size=min(m, k), replace=False)
        E[which, j] = rng.dirichlet(np.ones(len(which)))
    E *= np.exp(rng.uniform(np.log(500), np.log(20000), size=n))
    X = rng.poisson(S.to_numpy() @ E).astype(float)
    cat = pd.DataFrame(X, index=list(CHANNELS), columns=[f"tumour{j}" for j in range(n)])
    expo = pd.DataFrame(E.T, index=cat.columns, columns=S.columns)
    return cat, S, expo


def typed_signatures(mutation_type, k, seed):
    """k signatures over a registered type's channels (DBS78, ID83, …), each concentrated
    on one or two of the type's channel groups, as the COSMIC DBS and ID signatures are."""
    from nmfbio.datasets.signature_cohorts import grouped_signatures

    return grouped_signatures(mutation_type, k, seed)


def typed_cohort(mutation_type, k=3, n=100, seed=0, total=(200, 5000)):
    """Poisson catalog of a registered type with 1–2 active signatures per sample."""
    rng = np.random.default_rng(seed + 2000)
    S = typed_signatures(mutation_type, k, seed)
    E = np.zeros((k, n))
    for j in range(n):
        which = rng.choice(k, size=min(int(rng.integers(1, 3)), k), replace=False)
        E[which, j] = rng.dirichlet(np.ones(len(which)))
    E *= np.exp(rng.uniform(np.log(total[0]), np.log(total[1]), size=n))
    X = rng.poisson(S.to_numpy() @ E).astype(float)
    cat = pd.DataFrame(X, index=S.index, columns=[f"tumour{j}" for j in range(n)])
    return cat, S, pd.DataFrame(E.T, index=cat.columns, columns=S.columns)


def flat_cohort(n=120, seed=2, flat=10.0):
    """Four flat signatures (Dirichlet(flat) over the 96 channels); every tumour mixes three
    of them, none is near a pure one (the cone's faces are touched, its vertices are not).
    Returns the counts (channels × tumours) and the signatures (96 × 4 array)."""
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(96, flat), 4).T
    E = np.zeros((4, n))
    for j in range(n):
        idx = rng.choice(4, 3, replace=False)
        w = rng.uniform(0.15, 1.0, 3)
        E[idx, j] = w / w.sum()
    E *= rng.gamma(4.0, 3000.0, n)
    cat = pd.DataFrame(rng.poisson(S @ E), index=CHANNELS, columns=[f"t{j}" for j in range(n)])
    return cat, S


def min_matched_cosine(S, W):
    """The lowest cosine among the one-to-one (Hungarian) matches of columns of S and W."""
    from scipy.optimize import linear_sum_assignment

    from nmfbio.model_selection.matching import cosine_matrix

    C = cosine_matrix(np.asarray(S, dtype=float), np.asarray(W, dtype=float))
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].min())
