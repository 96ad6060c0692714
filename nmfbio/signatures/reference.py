"""Reference signature sets: a registry of known sets and a loader that never downloads.

COSMIC's catalogues are not freely redistributable (COSMIC's terms require a licence for
commercial use), so nmfbio ships none of them. ``reference(...)`` loads a set from

1. a path the user gives (``--reference PATH``): any COSMIC-style file (``Type`` column +
   one column per signature) or SigProfiler matrix, aligned by channel label;
2. a set shipped in ``nmfbio/signatures/data/`` (only sets whose licence allows it);
3. an installed package that carries the file (e.g. SigProfilerAssignment), located through
   Python's import system;

and checks files that the registry knows against their sha256. When no source is available
the error says where to get the file. The registry (``data/registry.tsv``) records name,
version, genome build, assay, source, sha256, licence and mutation type (SBS96, DBS78, ID83,
SBS288) of each known set.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pandas as pd

from nmfbio._atomic import file_sha256
from nmfbio.data import as_frame
from nmfbio.errors import NMFInputError

__all__ = ["reference", "registry", "ReferenceNotFoundError", "DATA_DIR"]

DATA_DIR = Path(__file__).parent / "data"
_COSMIC_URL = "https://cancer.sanger.ac.uk/signatures/downloads/"


class ReferenceNotFoundError(FileNotFoundError):
    """No copy of the requested reference set is available on this machine."""


def registry() -> pd.DataFrame:
    """The registry of known reference sets (index = name).

    Examples
    --------
    >>> "COSMIC_v3.4_SBS_GRCh37" in registry().index
    True
    """
    reg = pd.read_csv(DATA_DIR / "registry.tsv", sep="\t", index_col="name", dtype=str,
                      keep_default_na=False)
    return reg


def _load_file(path: Path, name: str | None) -> pd.DataFrame:
    from nmfbio.io import read_catalog

    ad = read_catalog(path, kind="signatures")
    sig = as_frame(ad)
    sums = sig.sum(axis=0)
    if (sums <= 0).any():
        raise NMFInputError(f"{path}: reference signature(s) {list(sums.index[sums <= 0])} "
                            "are all zero")
    sig = sig / sums
    sig.index.name = "Type"
    sig.attrs.update(source=str(path), sha256=file_sha256(path), name=name or Path(path).stem,
                     mutation_type=ad.uns["catalog"]["mutation_type"])
    return sig


def _installed_copy(entry) -> Path | None:
    pkg, _, rel = entry.get("installed_path", "").partition(":")
    if not pkg:
        return None
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        cand = Path(root) / rel
        if cand.is_file():
            return cand
    return None


def reference(name_or_path: str | os.PathLike = "COSMIC_v3.4_SBS_GRCh37") -> pd.DataFrame:
    """Load a reference signature set as a DataFrame (channels × signatures, columns
    summing to 1; ``.attrs`` records source, sha256 and the mutation type).

    Any registered mutation type: COSMIC's SBS96 sets, DBS78 (``COSMIC_v3.4_DBS_GRCh37``),
    ID83 (``COSMIC_v3.4_ID_GRCh37``) and SBS288 (``COSMIC_v3.2_SBS288_GRCh37``); the
    registry's ``mutation_type`` column says which set is which.

    Parameters
    ----------
    name_or_path : str or path
        A file (COSMIC-style ``Type`` + signature columns, or SigProfiler matrix), or the
        name of a registered set (see :func:`registry`).

    Raises
    ------
    ReferenceNotFoundError
        When a registered set is not available here; the message says where to get it.
    nmfbio.errors.NMFInputError
        When a file that the registry knows has the wrong sha256 (a different version).

    Examples
    --------
    >>> reference("no-such-set")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    nmfbio.signatures.reference.ReferenceNotFoundError: ...
    """
    reg = registry()
    path = Path(name_or_path)
    if path.is_file():
        sig = _load_file(path, None)
        known = reg.index[reg["sha256"] == sig.attrs["sha256"]]
        if len(known):
            sig.attrs["name"] = known[0]
        return sig
    name = str(name_or_path)
    if name not in reg.index:
        raise ReferenceNotFoundError(
            f"{name!r} is neither a file nor a registered reference set. Registered sets: "
            f"{list(reg.index)}. Pass a path to a COSMIC-style signature file "
            f"(Type + one column per signature), e.g. downloaded from {_COSMIC_URL}"
        )
    entry = reg.loc[name].to_dict()
    candidates = []
    if entry.get("bundled"):
        candidates.append(DATA_DIR / entry["bundled"])
    inst = _installed_copy(entry)
    if inst is not None:
        candidates.append(inst)
    for cand in candidates:
        if cand.is_file():
            sig = _load_file(cand, name)
            want = entry.get("sha256", "")
            if want and sig.attrs["sha256"] != want:
                raise NMFInputError(
                    f"{cand} does not match the registry's sha256 for {name} (found "
                    f"{sig.attrs['sha256'][:12]}…, expected {want[:12]}…): it is a different "
                    "version of the file; pass it by path if you mean to use it"
                )
            return sig
    raise ReferenceNotFoundError(
        f"reference set {name} ({entry.get('source', '')}, licence: "
        f"{entry.get('licence', 'see source')}) is not shipped with nmfbio and no installed "
        f"copy was found. Download {entry.get('file', name + '.txt')} from "
        f"{entry.get('url') or _COSMIC_URL} and pass it by path (Python: "
        f"reference('/path/to/file'); CLI: --reference PATH), or install the package that "
        f"carries it ({entry.get('installed_path', '').partition(':')[0] or 'none known'})"
    )
