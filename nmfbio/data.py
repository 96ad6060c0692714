"""The AnnData bridge: ``nmfbio.fit`` accepts arrays, sparse matrices, DataFrames and AnnData.

This is the only module that transposes between AnnData's orientation (obs = samples ×
var = features) and the solver's X (features × samples). It carries feature and sample
names into the result and writes results back into AnnData under the keys of
``nmfbio._keys``. It holds no numerics of its own: the solver in ``nmfbio.solver`` does the
fitting on arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nmfbio import _keys
from nmfbio.errors import NMFInputError
from nmfbio.solver import DEFAULT_MAX_ITER, DEFAULT_TOL, NMFResult, nmf

__all__ = ["fit", "as_matrix", "as_frame", "features_by_samples", "samples_by_features",
           "write_to_anndata"]


def _is_anndata(obj) -> bool:
    return type(obj).__name__ == "AnnData" and hasattr(obj, "obsm")


def as_matrix(data, *, layer=None, mask=None):
    """Turn any supported input into the solver's ``(X, mask, feature_names, sample_names)``.

    Parameters
    ----------
    data : ndarray, scipy.sparse matrix, pandas.DataFrame or anndata.AnnData
        Arrays and DataFrames are features × samples (DataFrame: index = features,
        columns = samples). AnnData is samples × features (obs × var), so ``X = adata.X.T``.
    layer : str, optional
        AnnData layer to use instead of ``adata.X``.
    mask : bool array-like, optional
        Observed entries, in the same orientation as ``data`` (for AnnData: obs × var).

    Returns
    -------
    X : ndarray or sparse matrix of shape (n_features, n_samples)
    mask : ndarray of the same shape or None
    feature_names, sample_names : list of str or None

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame([[1, 2], [3, 4]], index=["g1", "g2"], columns=["s1", "s2"])
    >>> X, m, f, s = as_matrix(df)
    >>> f, s
    (['g1', 'g2'], ['s1', 's2'])
    """
    if _is_anndata(data):
        if layer is None:
            M = data.X
        elif layer in data.layers:
            M = data.layers[layer]
        else:
            raise NMFInputError(
                f"layer {layer!r} not found in the AnnData; available: {sorted(data.layers)}"
            )
        if M is None:
            raise NMFInputError("the AnnData has no X matrix; pass layer=...")
        if not (sp.issparse(M) or isinstance(M, np.ndarray)):
            M = M[()] if hasattr(M, "shape") and not hasattr(M, "T") else np.asarray(M)
        X = M.T  # the only transpose between AnnData and the solver
        if mask is not None:
            mask = np.asarray(mask).T
        return X, mask, [str(v) for v in data.var_names], [str(o) for o in data.obs_names]
    if isinstance(data, pd.DataFrame):
        bad = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
        if bad:
            raise NMFInputError(
                f"DataFrame columns (samples) must be numeric; non-numeric column(s): "
                f"{[str(b) for b in bad[:5]]}. Set the feature names as the index "
                "(df.set_index(...)) and drop annotation columns"
            )
        if mask is not None:
            mask = np.asarray(mask)
        return (data.to_numpy(dtype=np.float64), mask, [str(i) for i in data.index],
                [str(c) for c in data.columns])
    if isinstance(data, pd.Series):
        raise NMFInputError("X must be 2-D (features × samples), got a pandas Series")
    return data, mask, None, None


def as_frame(data, *, layer=None, index_name=None) -> pd.DataFrame:
    """Any supported input as a dense features × samples DataFrame (index = features,
    columns = samples; an AnnData's ``var_names`` and ``obs_names``).

    Examples
    --------
    >>> import anndata, numpy as np
    >>> ad = anndata.AnnData(np.array([[1.0, 2.0, 3.0]]))  # 1 sample × 3 features
    >>> as_frame(ad).shape
    (3, 1)
    """
    X, _, fnames, snames = as_matrix(data, layer=layer)
    X = np.asarray(X.todense() if sp.issparse(X) else X, dtype=np.float64)
    n_features, n_samples = X.shape
    index = pd.Index(fnames if fnames is not None else [str(i) for i in range(n_features)],
                     name=index_name)
    columns = snames if snames is not None else [str(j) for j in range(n_samples)]
    return pd.DataFrame(X, index=index, columns=columns)


def features_by_samples(M):
    """A samples × features matrix (AnnData's layout) as the solver's features × samples:
    sparse as CSR in canonical form (which the solver shares instead of copying), dense as a
    view."""
    return sp.csr_matrix(M.T) if sp.issparse(M) else M.T


def samples_by_features(M):
    """A features × samples matrix as AnnData's samples × features (a C-contiguous copy)."""
    return sp.csr_matrix(M.T) if sp.issparse(M) else np.ascontiguousarray(M.T)


def write_to_anndata(adata, res: NMFResult, key_added: str = _keys.DEFAULT_KEY) -> None:
    """Write a result into an AnnData: ``varm[key]`` = W, ``obsm["X_" + key]`` = Hᵀ,
    ``uns[key]`` = parameters, loss and history (all h5ad-serialisable).

    Parameters
    ----------
    adata : anndata.AnnData
        samples × features, the one the result was fitted on.
    res : NMFResult
    key_added : str
        Key stem.

    Examples
    --------
    >>> import anndata, numpy as np, nmfbio
    >>> ad = anndata.AnnData(np.random.default_rng(0).poisson(3.0, (30, 8)).astype(float))
    >>> _ = nmfbio.fit(ad, 2, seed=0)
    >>> ad.obsm["X_nmf"].shape, ad.varm["nmf"].shape
    ((30, 2), (8, 2))
    """
    adata.varm[_keys.varm_key(key_added)] = res.W
    adata.obsm[_keys.obsm_key(key_added)] = res.H.T
    params = {k: v for k, v in res.params.items() if v is not None}
    adata.uns[_keys.uns_key(key_added)] = {
        "params": params,
        "loss": float(res.loss),
        "objective": float(res.objective),
        "loss_name": res.loss_name,
        "history": np.asarray(res.history, dtype=np.float64),
        "n_iter": int(res.n_iter),
        "converged": bool(res.converged),
        "components": np.asarray(res.component_names, dtype=object),
    }


def fit(X, rank, *, loss="frobenius", l1_W=0.0, l1_H=0.0, mask=None, init="auto",
        W_init=None, H_init=None, restarts=1, max_iter=DEFAULT_MAX_ITER, tol=DEFAULT_TOL,
        seed=None, layer=None, key_added=_keys.DEFAULT_KEY, volume=0.0) -> NMFResult:
    """Non-negative matrix factorization X ≈ W H with W, H ≥ 0.

    X is features × samples (96 channels × tumours, neurons × time bins, genes × cells).
    W (features × rank) holds the parts (signatures, assemblies, programs), each column
    summing to 1; H (rank × samples) holds the recipes (exposures, activations, usages) and
    carries the scale. Components are ordered by total contribution. scikit-learn's ``NMF``
    uses the transposed naming: fitted on ``X.T`` its ``components_`` are our ``W.T`` and
    its ``transform`` output is our ``H.T``.

    Parameters
    ----------
    X : ndarray, scipy.sparse matrix, pandas.DataFrame or anndata.AnnData
        Non-negative data of shape (n_features, n_samples). A DataFrame has features as
        index and samples as columns (names are carried into the result). An AnnData is
        samples × features, so ``adata.X.T`` (or ``adata.layers[layer].T``) is fitted and
        the result is written back (see ``key_added``). Sparse input is never densified.
    rank : int
        Number of components, 1 ≤ rank ≤ min(n_features, n_samples).
    loss : {"frobenius", "kl"}, default "frobenius"
        ½‖X − WH‖²_F, or the generalised Kullback–Leibler divergence (Poisson; use it for
        counts: mutations, spikes, UMIs). Same definitions as scikit-learn.
    l1_W, l1_H : float, default 0
        L1 (sparsity) penalties added to the objective: ``l1_W·ΣW + l1_H·ΣH``, evaluated at
        the solver's scaling of the factors. With one penalty only, the other factor is
        kept at unit sums while fitting (W's columns for ``l1_H``, H's rows for ``l1_W``)
        so the penalty cannot be dodged by rescaling. With the Frobenius loss this makes
        the penalised factor sparser. With ``loss="kl"`` it does not: ΣH (or ΣW) is then
        the total of the model W H, and the KL optimum over a model closed under scaling
        is the unpenalised one times 1/(1 + l1), so ``l1_H`` (or ``l1_W``) alone returns
        the unpenalised W with H divided by (1 + l1): same parts, same zeros, a model
        that no longer matches the data's total. For sparsity with KL set both: their
        penalty is then, at the best scaling of each component, 2·√(l1_W·l1_H)·Σ_k √(Σ_j
        H_kj) for the unit-sum W returned, which makes W and H sparser.
    mask : bool array-like, optional
        True where an entry is observed; held-out entries take no part in the loss or the
        updates (NaN/inf allowed there). Same orientation as ``X`` (for AnnData, obs × var).
        Dense X only.
    init : {"auto", "random", "nndsvd", "nndsvda", "nndsvdar", "spa", "custom"}
        Default "auto": NNDSVDa for the first restart and seeded random for the others.
        "spa" starts W at anchor samples (``nmfbio.anchors``). With several restarts,
        restarts after the first always start at random.
    W_init, H_init : ndarray, optional
        Starting factors (shapes (n_features, rank) and (rank, n_samples)); imply "custom".
    restarts : int, default 1
        Seeded runs, fitted as one batch; the one with the lowest objective is returned and
        ``restart_objectives`` lists all.
    max_iter : int, default 1000
        Outer iterations (each updates W, then H); a ``ConvergenceWarning`` is raised when
        reached.
    tol : float, default 1e-5
        Stop when the objective's relative decrease over one iteration falls below tol
        (dense KL fits, which evaluate the objective only every few iterations while it
        falls fast: its mean per iteration since the last evaluation).
    seed : int, optional
        Same seed → identical result. When None a seed is drawn and recorded in
        ``result.seed`` so the run can be repeated.
    layer : str, optional
        AnnData layer to fit instead of ``adata.X``.
    key_added : str, default "nmf"
        For AnnData: W goes to ``varm[key_added]``, Hᵀ to ``obsm["X_" + key_added]`` and
        the parameters, loss and history to ``uns[key_added]``.
    volume : float, default 0
        Minimum-volume NMF (``loss="kl"`` only): λ̃ of a log det(WᵀW + I) penalty that
        picks the tightest cone of parts that still fits, for data without pure samples
        (flat, overlapping signatures); see :mod:`nmfbio.solver.minvol`. 0 is plain NMF.

    Returns
    -------
    NMFResult
        ``W``, ``H``, ``loss``, ``objective``, ``history``, ``n_iter``, ``converged``,
        names, ``reconstruct()``, ``save()``/``NMFResult.load()``, ``W_frame()``/``H_frame()``.

    Raises
    ------
    NMFInputError
        Negative, NaN or infinite values (how many, and where the first is), an empty
        matrix, a rank out of range, a mask of the wrong shape, unknown loss/init names.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached.
    DataWarning
        When some features or samples are all zero (they are kept and get zero weight),
        or when the returned fit has a dead component (an all-zero column of W and row
        of H; see ``NMFResult.n_dead``).

    Examples
    --------
    >>> import numpy as np, nmfbio
    >>> W = np.array([[2, 0.5], [0, 1.5], [1, 0]])
    >>> H = np.array([[1, 0, 2, 1], [0.5, 1, 0, 0.5]])
    >>> res = nmfbio.fit(W @ H, rank=2, seed=0)
    >>> bool(res.loss < 1e-8)
    True
    >>> res.reconstruct()[:, 2].round(6).tolist()
    [4.0, 0.0, 2.0]
    """
    if _is_anndata(X) and (not isinstance(key_added, str) or not key_added):
        raise NMFInputError(f"key_added must be a non-empty string, got {key_added!r}")
    Xm, mask_m, fnames, snames = as_matrix(X, layer=layer, mask=mask)
    res = nmf(Xm, rank, loss=loss, l1_W=l1_W, l1_H=l1_H, mask=mask_m, init=init,
              W_init=W_init, H_init=H_init, restarts=restarts, max_iter=max_iter, tol=tol,
              seed=seed, feature_names=fnames, sample_names=snames, volume=volume)
    if _is_anndata(X):
        res.params["layer"] = layer if layer is not None else "X"
        write_to_anndata(X, res, key_added)
    return res
