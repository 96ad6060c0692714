"""The one store behind every result object's ``save(path)`` / ``Class.load(path)``.

A result is a dataclass; :class:`Stored` gives it ``save`` and ``load``. The file is HDF5,
written atomically, with two attributes at its root: ``format`` (``"nmfbio.<ClassName>"``)
and ``format_version`` (an int the class raises when its layout changes). ``load`` refuses a
file of another kind, naming what it is and how to load it, and a file of a newer version
than this nmfbio reads, saying to upgrade. Each field is stored by its type, in one place:

- ndarray → a dataset (strings as fixed-width UTF-8; over 1000 entries gzip-compressed);
- pandas DataFrame / Series → a group: one dataset per column, the index and the column
  names as strings, with their names (``index_name``);
- a nested :class:`Stored` dataclass (e.g. the rank selection inside an extraction) → a
  group with its own ``format``;
- str, int, float, bool, None, and lists/dicts of them → one JSON attribute.

Fields the class names in ``_not_stored`` (e.g. the AnnData a result was written back to)
are left out and come back as their default. What lives elsewhere: folders of TSV and PNG
(what the CLI writes from a result), the workflow's shard files (:mod:`nmfbio.model_selection`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from typing import ClassVar

import numpy as np

from nmfbio._atomic import atomic_path
from nmfbio.errors import FormatError

__all__ = ["Stored", "read_format"]

_PREFIX = "nmfbio."
#: every Stored class by its format name (how a nested result finds its class)
_CLASSES: dict[str, type] = {}


class Stored:
    """Mixin for result dataclasses: ``save(path)`` and ``classmethod load(path)``.

    Examples
    --------
    >>> import dataclasses, os, tempfile
    >>> import numpy as np
    >>> @dataclasses.dataclass
    ... class Demo(Stored):
    ...     W: np.ndarray
    ...     rank: int
    >>> p = os.path.join(tempfile.mkdtemp(), "demo.h5")
    >>> Demo(np.eye(2), 2).save(p)
    >>> Demo.load(p).rank
    2
    """

    #: raise when the stored layout of the class changes
    _format_version: ClassVar[int] = 1
    #: fields not written (they load as their default)
    _not_stored: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        """The class, the first line of ``summary()`` and the shapes of the tables: a few
        lines, never the arrays themselves."""
        head = self.summary().splitlines()[0] if hasattr(self, "summary") else ""
        lines = textwrap.wrap(f"{type(self).__name__}: {head}", 96,
                              subsequent_indent="    ", max_lines=3, placeholder=" …")
        shapes = [f"{fld.name} {_shape(getattr(self, fld.name))}"
                  for fld in dataclasses.fields(self)
                  if _shape(getattr(self, fld.name)) is not None]
        if shapes:
            lines += textwrap.wrap(", ".join(shapes), 96, initial_indent="    ",
                                   subsequent_indent="    ", max_lines=4, placeholder=" …")
        return "\n".join(lines)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _CLASSES[cls._format_name()] = cls

    @classmethod
    def _format_name(cls) -> str:
        return f"{_PREFIX}{cls.__name__}"

    def save(self, path: str | os.PathLike) -> None:
        """Write this result to an HDF5 file (atomically; an existing file is replaced only
        when the write has succeeded). Read it back with ``load``."""
        import h5py

        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            _write_object(f, self)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Read a result written by ``save``.

        Raises
        ------
        nmfbio.errors.FormatError
            When the file is not HDF5, holds another kind of result, or was written by a
            newer nmfbio (a higher format version than this one reads).
        """
        import h5py

        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file: {os.fspath(path)}")
        try:
            f = h5py.File(path, "r")
        except OSError as exc:
            raise FormatError(f"not an HDF5 file ({exc}); {cls.__name__}.load reads files "
                              f"written by {cls.__name__}.save", path) from None
        with f:
            try:
                return _read_object(f, cls, path)
            except FormatError:
                raise
            except (KeyError, ValueError, OSError, TypeError) as exc:  # damaged inside
                raise FormatError(f"a damaged or incomplete {cls.__name__} file "
                                  f"({type(exc).__name__}: {exc}); write it again with "
                                  f"{cls.__name__}.save", path) from None


def read_format(path: str | os.PathLike) -> tuple[str, int] | None:
    """``(format, version)`` of an nmfbio HDF5 file, or None when it is not one.

    Examples
    --------
    >>> read_format("no-such-file.h5") is None
    True
    """
    import h5py

    try:
        with h5py.File(path, "r") as f:
            name, version = _format_of(f)
    except (OSError, ValueError):
        return None
    if not isinstance(name, str) or not name.startswith(_PREFIX):
        return None
    return name, version


def _format_of(group) -> tuple[str | None, int]:
    """``format`` and ``format_version`` of a file or group; the first files of
    AssemblyResult wrote both in one attribute, ``nmfbio.AssemblyResult/1``."""
    name = group.attrs.get("format")
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    version = int(group.attrs.get("format_version", 1))
    if isinstance(name, str) and "/" in name:
        name, _, number = name.partition("/")
        version = int(number) if number.isdigit() else version
    return name, version


def _shape(value) -> str | None:
    if isinstance(value, np.ndarray) or _is_frame(value) or _is_series(value):
        return "×".join(str(n) for n in value.shape) if value.ndim > 1 else f"({len(value)})"
    return None


# ------------------------------------------------------------------------ writing
def _write_object(group, obj: Stored) -> None:
    group.attrs["format"] = obj._format_name()
    group.attrs["format_version"] = int(obj._format_version)
    plain = {}
    for fld in dataclasses.fields(obj):
        if fld.name in obj._not_stored:
            continue
        value = getattr(obj, fld.name)
        if isinstance(value, Stored):
            _write_object(group.create_group(fld.name), value)
        elif _is_frame(value) or _is_series(value):
            _write_frame(group.create_group(fld.name), value)
        elif isinstance(value, np.ndarray):
            _write_array(group, fld.name, value)
        else:
            plain[fld.name] = value
    group.attrs["fields"] = json.dumps(plain, default=_json_default)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, tuple, range)):
        return list(value)
    return str(value)


def _write_array(group, name, values: np.ndarray) -> None:
    """Numbers as they are; strings as fixed-width UTF-8 bytes (so they compress); anything
    over 1000 entries gzip-compressed (lossless)."""
    if values.dtype.kind in "OUS":
        encoded = [str(x).encode("utf-8") for x in values.ravel()]
        width = max((len(b) for b in encoded), default=1) or 1
        data = np.array(encoded, dtype=f"S{width}").reshape(values.shape)
    else:
        data = values
    opts = dict(compression="gzip", compression_opts=4, shuffle=True) if data.size > 1000 else {}
    group.create_dataset(name, data=data, **opts)
    if data is not values:
        group[name].attrs["strings"] = True


def _is_frame(value) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")


def _is_series(value) -> bool:
    return type(value).__name__ == "Series" and hasattr(value, "index")


def _write_frame(group, frame) -> None:
    series = _is_series(frame)
    group.attrs["kind"] = "series" if series else "frame"
    if series:
        group.attrs["name"] = json.dumps(frame.name, default=_json_default)
        frame = frame.to_frame(name="values")
    index = frame.index.to_numpy()
    _write_array(group, "index", index if index.dtype.kind in "iufb" else index.astype(object))
    group.attrs["index_name"] = json.dumps(frame.index.name, default=_json_default)
    group.attrs["columns"] = json.dumps(list(frame.columns), default=_json_default)
    group.attrs["columns_name"] = json.dumps(frame.columns.name, default=_json_default)
    columns = group.create_group("data")
    for j, col in enumerate(frame.columns):
        values = frame[col].to_numpy()
        if values.dtype.kind == "O":
            present = [v for v in values if v is not None]
            if present and all(isinstance(v, (bool, np.bool_)) for v in present):
                values = values.astype(bool)
            elif present and all(isinstance(v, (int, float, np.number)) for v in present):
                values = values.astype(float)
        _write_array(columns, str(j), values)


# ------------------------------------------------------------------------ reading
def _read_object(group, cls, path):
    name, version = _format_of(group)
    want = cls._format_name()
    if name != want:
        if isinstance(name, str) and name.startswith(_PREFIX):
            other = name.split("/")[0].removeprefix(_PREFIX)
            raise FormatError(f"holds an nmfbio {other}, not a {cls.__name__}: load it with "
                              f"{other}.load", path)
        raise FormatError(f"not an nmfbio result file (no 'format' attribute {want!r}); "
                          f"{cls.__name__}.load reads files written by {cls.__name__}.save",
                          path)
    if version > cls._format_version:
        raise FormatError(f"written by a newer nmfbio ({want} format version {version}; this "
                          f"nmfbio reads up to version {cls._format_version}): upgrade nmfbio "
                          "to read it", path)
    if "fields" not in group.attrs:
        if hasattr(cls, "_load_legacy"):  # a layout written before this store existed
            return cls._load_legacy(group, path)
        raise FormatError(f"an {want} file in an older layout this nmfbio cannot read; "
                          "rerun the command that wrote it", path)
    values = json.loads(group.attrs["fields"])
    for fld in dataclasses.fields(cls):
        if fld.name in values or fld.name not in group:
            continue
        item = group[fld.name]
        if hasattr(item, "keys"):  # a group
            if "format" in item.attrs:
                inner, _ = _format_of(item)
                values[fld.name] = _read_object(item, _CLASSES.get(inner, cls), path)
            else:
                values[fld.name] = _read_frame(item)
        else:
            values[fld.name] = _read_array(item)
    return cls(**{k: v for k, v in values.items()
                  if k in {f.name for f in dataclasses.fields(cls)}})


def _read_array(dataset) -> np.ndarray:
    if dataset.attrs.get("strings", False):
        raw = dataset[()]
        return np.array([b.decode("utf-8") for b in np.ravel(raw)],
                        dtype=object).reshape(np.shape(raw))
    return dataset[()]


def _read_frame(group):
    import pandas as pd

    columns = json.loads(group.attrs["columns"])
    data = {c: _read_array(group["data"][str(j)]) for j, c in enumerate(columns)}
    index = pd.Index(_read_array(group["index"]), name=json.loads(group.attrs["index_name"]))
    frame = pd.DataFrame(data, index=index,
                         columns=pd.Index(columns, name=json.loads(group.attrs["columns_name"])))
    if group.attrs["kind"] == "series":
        return frame["values"].rename(json.loads(group.attrs["name"]))
    return frame
