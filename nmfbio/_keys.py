"""Key names under which nmfbio writes results into AnnData objects, spelled in one place.

``fit(adata, key_added="nmf")`` writes ``varm[key]`` (W, features × components),
``obsm["X_" + key]`` (H transposed, samples × components) and ``uns[key]`` (parameters,
loss, history).
"""

from __future__ import annotations

DEFAULT_KEY = "nmf"


def varm_key(key: str = DEFAULT_KEY) -> str:
    """Key of W (features × components) in ``adata.varm``."""
    return key


def obsm_key(key: str = DEFAULT_KEY) -> str:
    """Key of H transposed (samples × components) in ``adata.obsm``."""
    return f"X_{key}"


def uns_key(key: str = DEFAULT_KEY) -> str:
    """Key of the fit's parameters and loss in ``adata.uns``."""
    return key
