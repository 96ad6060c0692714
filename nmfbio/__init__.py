"""nmfbio: non-negative matrix factorization for biological and neural data.

X (features × samples) ≈ W H with W, H ≥ 0: W holds the parts (mutational signatures,
neural assemblies, gene programs), H the recipes (exposures, activations, usages). Start
with :func:`nmfbio.fit`; model selection (:func:`consensus`, :func:`select_rank`,
:mod:`anchors`) is in :mod:`nmfbio.model_selection`, the solver on plain arrays in
:mod:`nmfbio.solver`, file adapters in :mod:`nmfbio.io`, the fields in
:mod:`nmfbio.signatures`, :mod:`nmfbio.assemblies` and :mod:`nmfbio.programs`, figures in
:mod:`nmfbio.plot`, HTML reports in :mod:`nmfbio.report`, bundled and generated data in
:mod:`nmfbio.datasets`.

Every namespace is reachable after ``import nmfbio`` and loads when first used (a module
``__getattr__``, PEP 562), so ``import nmfbio`` stays cheap: numba, matplotlib, anndata and
pandas load only with the code that needs them. The old module paths ``nmfbio.consensus``,
``nmfbio.rank``, ``nmfbio.anchors``, ``nmfbio.matching`` and ``nmfbio.shards`` still import
(they are the modules of :mod:`nmfbio.model_selection`).

Examples
--------
In a fresh interpreter, ``import nmfbio`` then ``"numba" in sys.modules`` is False
(``tests/test_layers.py`` checks it); a namespace loads when first used:

>>> import nmfbio
>>> nmfbio.io.read_catalog  # doctest: +ELLIPSIS
<function read_catalog at 0x...>
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

from nmfbio.errors import ConvergenceWarning, DataWarning, FormatError, NMFInputError

__version__ = "0.1.0"

#: namespaces (subpackages) loaded on first use
_NAMESPACES = ("assemblies", "data", "datasets", "io", "model_selection", "plot", "programs",
               "report", "signatures", "solver")
#: names loaded on first use: name -> (module, attribute or None for the module itself)
_LAZY = {
    "fit": ("nmfbio.data", "fit"),
    "NMFResult": ("nmfbio.solver.result", "NMFResult"),
    "consensus": ("nmfbio.model_selection.consensus", "consensus"),
    "ConsensusResult": ("nmfbio.model_selection.consensus", "ConsensusResult"),
    "select_rank": ("nmfbio.model_selection.rank", "select_rank"),
    "RankSelection": ("nmfbio.model_selection.rank", "RankSelection"),
    "consensus_runs": ("nmfbio.model_selection._shards", "consensus_runs"),
    "consensus_from_runs": ("nmfbio.model_selection._shards", "consensus_from_runs"),
    "select_rank_from_shards": ("nmfbio.model_selection._shards", "select_rank_from_shards"),
    "anchors": ("nmfbio.model_selection.anchors", None),
    "rank": ("nmfbio.model_selection.rank", None),
    "matching": ("nmfbio.model_selection.matching", None),
    "shards": ("nmfbio.model_selection._shards", None),
}
#: old module paths (before model selection had its own package) -> where they live now
_MOVED = {
    "nmfbio.consensus": "nmfbio.model_selection.consensus",
    "nmfbio.rank": "nmfbio.model_selection.rank",
    "nmfbio.anchors": "nmfbio.model_selection.anchors",
    "nmfbio.matching": "nmfbio.model_selection.matching",
    "nmfbio.shards": "nmfbio.model_selection._shards",
}

__all__ = [
    "ConsensusResult", "ConvergenceWarning", "DataWarning", "FormatError", "NMFInputError",
    "NMFResult", "RankSelection", "anchors", "consensus", "consensus_from_runs",
    "consensus_runs", "fit", "select_rank", "select_rank_from_shards", "__version__",
    *_NAMESPACES,
]


def __getattr__(name: str):
    """Load a namespace or a top-level name on first use (PEP 562)."""
    if name in _NAMESPACES:
        value = importlib.import_module(f"nmfbio.{name}")
    elif name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        if attr is not None:
            value = getattr(value, attr)
    else:
        raise AttributeError(f"module 'nmfbio' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY))


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import an old module path as the module it moved to (the same module object)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in _MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(_MOVED[spec.name])
        self._own_spec = module.__spec__  # the import system replaces it by the old path's
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = self._own_spec  # already executed: only its own spec put back


class _Package(types.ModuleType):
    """``nmfbio`` itself: importing the old path ``nmfbio.consensus`` must not replace the
    function ``nmfbio.consensus`` by the module (the import system sets a submodule as an
    attribute of its parent)."""

    def __setattr__(self, name, value) -> None:
        if name in _LAZY and _LAZY[name][1] is not None and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
sys.modules[__name__].__class__ = _Package
