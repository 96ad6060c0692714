"""Atomic file output: write to a temporary file beside the target, then rename.

Used by every writer in nmfbio so that an interrupted run never leaves a half-written file,
and so that no writer silently replaces one of its own inputs. The file gets the mode an
ordinary ``open(path, "w")`` would give it (0o666 less the process umask), not the private
0o600 of the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["atomic_path", "check_not_input", "output_set", "check_output_set", "file_sha256",
           "MANIFEST"]

#: the file in an output folder that says which files a command finished writing
MANIFEST = ".nmfbio-outputs.json"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds.

    Parameters
    ----------
    path : path-like
        Final destination.
    suffix : str, optional
        Suffix of the temporary file (some writers pick the format from it). Defaults to the
        destination's suffix.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "a.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes the file 0o600; a writer may also have replaced it with its own
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise
    _remove_stale(path, tmp_path.name)


def _remove_stale(path: Path, own: str) -> None:
    """Remove temporaries of ``path`` left by a writer that was killed (SIGKILL, power loss)
    before it could clean up: ``.{name}.XXXXXXXX{suffix}`` files beside it, older than a
    minute (so a writer of the same file running right now keeps its own)."""
    import time

    now = time.time()
    for stale in path.parent.glob(f".{path.name}.*"):
        if stale.name != own and stale.is_file() and now - stale.stat().st_mtime > 60:
            with contextlib.suppress(OSError):
                stale.unlink()


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (read from /proc on Linux, where reading it changes nothing)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _UMASK_LOCK:  # elsewhere the only way to read it is to set it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def check_not_input(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike],
                    *, replaceable=None):
    """Raise ``FileExistsError`` when an output file cannot or must not be written: it is an
    existing folder, one of the inputs, or an existing file inside an input folder (it
    belongs to that result set, e.g. the ``W.tsv`` of a fit folder given as input). New
    files inside an input folder are fine (``nmfbio report out/ -o out/report.html``).

    The one guard every writer calls before doing any work.

    Parameters
    ----------
    outputs, inputs : iterables of path-like
    replaceable : callable, optional
        ``replaceable(path) -> bool``: an existing file inside an input folder that this
        writer may replace (its own earlier output, such as an earlier report).

    Examples
    --------
    >>> check_not_input(["out/W.tsv"], ["data.csv"])
    """
    ins = [Path(p).resolve() for p in inputs]
    folders = [p for p in ins if p.is_dir()]
    for out in outputs:
        target = Path(out).resolve()
        if target in ins:
            raise FileExistsError(
                f"refusing to write {out}: it is one of the inputs; choose another output path"
            )
        if target.is_dir():
            raise FileExistsError(f"refusing to write {out}: it is a folder; give the name of "
                                  "a file to write")
        inside = next((f for f in folders if f in target.parents), None)
        if inside is not None and target.exists() and not (replaceable and replaceable(target)):
            raise FileExistsError(
                f"refusing to write {out}: it is a file of the input {inside} and would be "
                "replaced; choose an output path outside it (or a new file name)")


# --------------------------------------------------------------------------- output sets
def _read_manifest(folder: Path) -> dict:
    import json

    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"files": {}}
    return data if isinstance(data.get("files"), dict) else {"files": {}}


def _write_manifest(folder: Path, data: dict) -> None:
    import json

    with atomic_path(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read a MiB at a time (hex)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def output_set(outdir: str | os.PathLike, names: Iterable[str], *, command: str):
    """Write the files of one command's result set as one unit.

    Before any file is written, the folder's manifest (:data:`MANIFEST`) marks them as being
    written; each file is then written atomically by the caller; when the block succeeds the
    manifest records each file's size and sha256. A set that was interrupted (killed between
    two of its files) is therefore never taken for a finished one: :func:`check_output_set`
    refuses it. Files of other sets in the same folder keep their entries.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with output_set(d, ["a.txt"], command="demo") as out:
    ...     _ = out["a.txt"].write_text("x")
    >>> check_output_set([d / "a.txt"])
    """
    outdir = Path(outdir)
    names = list(names)
    outdir.mkdir(parents=True, exist_ok=True)
    data = _read_manifest(outdir)
    for name in names:
        data["files"][name] = {"state": "writing", "command": command}
    _write_manifest(outdir, data)
    yield {name: outdir / name for name in names}
    data = _read_manifest(outdir)
    for name in names:
        path = outdir / name
        if path.is_file():
            data["files"][name] = {"state": "done", "command": command,
                                   "size": path.stat().st_size, "sha256": file_sha256(path)}
        else:
            data["files"].pop(name, None)
    _write_manifest(outdir, data)


def check_output_set(paths: Iterable[str | os.PathLike]) -> None:
    """Raise :class:`~nmfbio.errors.FormatError` when one of ``paths`` belongs to a result
    set that was not finished (its command was interrupted) or was changed afterwards. A
    folder among ``paths`` stands for every file its manifest lists (check it before
    reading anything in it).

    Folders without a manifest (written by hand, or by an nmfbio before 0.1.1) and files
    the manifest does not list are taken as they are.
    """
    manifests: dict[Path, dict] = {}
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for name, entry in _read_manifest(path)["files"].items():
                _check_entry(path / name, entry)
            continue
        if path.parent not in manifests:
            manifests[path.parent] = _read_manifest(path.parent)
        entry = manifests[path.parent]["files"].get(path.name)
        if entry is not None:
            _check_entry(path, entry)


def _check_entry(path: Path, entry: dict) -> None:
    from nmfbio.errors import FormatError

    command = entry.get("command", "the nmfbio command")
    if entry.get("state") != "done":
        raise FormatError(f"this file of a result set was never finished: {command} was "
                          "interrupted while writing its outputs here; run it again", path)
    if not path.is_file() or path.stat().st_size != entry.get("size") or (
            file_sha256(path) != entry.get("sha256")):
        raise FormatError(f"this file changed after {command} wrote it (its size or sha256 "
                          f"differs from {path.parent / MANIFEST}); run the command again, "
                          "or remove the manifest if the change is intended", path)
