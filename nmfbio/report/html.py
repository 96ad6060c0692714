"""The report page: :func:`write_report` finds the sections of the RESULTs given
(:func:`nmfbio.report.registry.find_sections`) and writes one self-contained HTML file —
figures as base64 PNG ``data:`` URIs, CSS inline, no script and no external URL — with the
inputs and their parameters, each section, and the software versions. Every piece of text
from a result (names, parameters, table cells) is HTML-escaped here. What goes in a section
is decided in :mod:`nmfbio.report.sections` and :mod:`nmfbio.report.domains`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from nmfbio.report.model import FigureBlock, Section, TableBlock, TextBlock

__all__ = ["write_report", "render_page", "software_versions"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0 auto;max-width:1150px;padding:1.5em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #2a7ab0;padding-bottom:.2em;
 margin-top:2em}h3{font-size:1.05em;margin:1.2em 0 .4em}
.meta,.source,.note{color:#666;font-size:.9em}
pre{background:#f5f7f9;border:1px solid #e1e5ea;padding:.7em;overflow-x:auto;font-size:.85em;
 white-space:pre-wrap}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.85em}
th,td{border:1px solid #d5dbe1;padding:.25em .55em;text-align:right;vertical-align:top}
th{background:#eef2f6}td.t,th.t{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;font-size:.9em;margin-top:.3em}
nav ol{columns:2}
"""


def _e(value) -> str:
    """HTML-escape any value as text (quotes too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


def software_versions() -> dict[str, str]:
    """Versions of nmfbio, its main dependencies, Python and the platform.

    Examples
    --------
    >>> v = software_versions()
    >>> sorted(v)[:3], v["nmfbio"] != ""
    (['anndata', 'h5py', 'matplotlib'], True)
    """
    from importlib.metadata import PackageNotFoundError, version

    import nmfbio

    out = {"nmfbio": nmfbio.__version__}
    for name in ("numpy", "scipy", "numba", "pandas", "anndata", "h5py", "matplotlib"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    out["platform"] = platform.platform()
    return out


def _cell(value) -> tuple[str, bool]:
    """(text, is_text): numbers with 4 significant digits (whole numbers from 10,000 on),
    right-aligned."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)), True
    if isinstance(value, (int, np.integer)):
        return str(int(value)), False
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "", False
        big = np.isfinite(value) and abs(value) >= 1e4
        return (f"{float(value):,.0f}" if big else f"{float(value):.4g}"), False
    return ("" if value is None else str(value)), True


def _table_html(frame: pd.DataFrame) -> str:
    index_name = " / ".join(str(n) for n in frame.index.names if n is not None)
    head = "".join(f'<th class="t">{_e(c)}</th>' for c in frame.columns)
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = []
        for v in values:
            text, is_text = _cell(v)
            cells.append(f'<td class="t">{_e(text)}</td>' if is_text else f"<td>{_e(text)}</td>")
        rows.append(f'<tr><th class="t">{_e(label)}</th>{"".join(cells)}</tr>')
    return (f'<table><thead><tr><th class="t">{_e(index_name)}</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _params_html(params: dict) -> str:
    if not params:
        return '<p class="note">No parameters recorded.</p>'
    rows = "".join(f'<tr><th class="t">{_e(k)}</th><td class="t">{_e(_param(v))}</td></tr>'
                   for k, v in params.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _param(value) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _block_html(block) -> str:
    if isinstance(block, TextBlock):
        return f"<pre>{_e(block.text)}</pre>" if block.pre else f"<p>{_e(block.text)}</p>"
    if isinstance(block, FigureBlock):
        data = base64.b64encode(block.png).decode("ascii")
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(block.caption)}">'
                f"<figcaption>{_e(block.caption)}</figcaption></figure>")
    if isinstance(block, TableBlock):
        note = f' <span class="note">({_e(block.note)})</span>' if block.note else ""
        return f"<h3>{_e(block.caption)}{note}</h3>{_table_html(block.frame)}"
    raise TypeError(f"unknown report block {type(block).__name__}")


def _section_html(i: int, sec: Section) -> str:
    parts = [f'<section id="s{i}" class="result"><h2>{i}. {_e(sec.title)}</h2>',
             f'<p class="source">{_e(sec.kind)} result: {_e(sec.source)}</p>']
    if sec.summary:
        parts.append(f"<pre>{_e(sec.summary)}</pre>")
    parts.append("<h3>Parameters</h3>" + _params_html(sec.params))
    parts.extend(_block_html(b) for b in sec.blocks)
    parts.append("</section>")
    return "\n".join(parts)


def render_page(sections: Sequence[Section], *, title: str, inputs: Sequence[str | os.PathLike]
                ) -> str:
    """The HTML text of a report.

    Parameters
    ----------
    sections : sequence of Section
    title : str
    inputs : sequence of path-like
        The RESULTs as the user gave them (listed under "Inputs").

    Returns
    -------
    str
        A complete HTML document; no external resource, no script.

    Examples
    --------
    >>> from nmfbio.report.model import Section
    >>> page = render_page([Section("A <b>", "fit", Path("x"))], title="T", inputs=["x"])
    >>> "A &lt;b&gt;" in page and "<script" not in page
    True
    """
    now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    versions = software_versions()
    toc = "".join(f'<li><a href="#s{i}">{_e(s.title)}</a></li>'
                  for i, s in enumerate(sections, 1))
    rows = []
    for raw in inputs:
        kinds = ", ".join(f"{i}. {s.kind}" for i, s in enumerate(sections, 1)
                          if s.result == str(raw))
        rows.append(f'<tr><td class="t">{_e(raw)}</td><td class="t">'
                    f'{_e(Path(raw).resolve())}</td><td class="t">{_e(kinds)}</td></tr>')
    inputs_html = ('<table><thead><tr><th class="t">RESULT</th><th class="t">full path</th>'
                   f'<th class="t">sections</th></tr></thead><tbody>{"".join(rows)}'
                   "</tbody></table>")
    body = "\n".join(_section_html(i, s) for i, s in enumerate(sections, 1))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nmfbio {_e(versions['nmfbio'])}">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{_e(title)}</h1>
<p class="meta">Written {_e(now)} by nmfbio {_e(versions['nmfbio'])}.
X (features × samples) ≈ W H: W holds the parts (columns sum to 1), H the recipes.</p>
</header>
<nav><h2>Contents</h2><ol>{toc}<li><a href="#inputs">Inputs</a></li>
<li><a href="#software">Software</a></li></ol></nav>
<section id="inputs"><h2>Inputs</h2>{inputs_html}
<p class="note">The parameters of each result are listed in its section.</p></section>
{body}
<section id="software"><h2>Software</h2>{_params_html(versions)}</section>
</body>
</html>
"""


def _is_report(path: Path) -> bool:
    """Whether ``path`` is an HTML page this module wrote (its generator meta tag)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.lstrip()[:15].lower() == b"<!doctype html>" and (
        b'<meta name="generator" content="nmfbio' in head)


def write_report(results: str | os.PathLike | Iterable[str | os.PathLike],
                 path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write one self-contained HTML report of nmfbio results.

    Parameters
    ----------
    results : path-like or iterable of path-like
        Output folders of nmfbio commands (``nmfbio fit``, ``consensus``, ``rank``,
        ``anchors``, ``signatures extract|match|assign``, ``programs find``) or result files
        (``result.h5``, ``consensus.h5``, ``rank_selection.tsv``).
    path : path-like
        The HTML file to write (atomically; never one of the files read).
    title : str, optional
        Page title; default "nmfbio report: " and the RESULT names.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FileNotFoundError
        A RESULT does not exist.
    nmfbio.errors.FormatError
        Nothing nmfbio recognises in a RESULT, or a malformed result.
    FileExistsError
        ``path`` is a folder or one of the files read.

    Examples
    --------
    >>> import numpy as np, os, tempfile, nmfbio
    >>> from nmfbio.report import write_report
    >>> d = tempfile.mkdtemp()
    >>> X = np.random.default_rng(0).poisson(5.0, size=(20, 30))
    >>> nmfbio.fit(X, 2, seed=0).save(os.path.join(d, "result.h5"))
    >>> out = write_report(d, os.path.join(d, "report.html"))
    >>> "NMF fit at rank 2" in out.read_text()
    True
    """
    from nmfbio._atomic import atomic_path, check_not_input, check_output_set
    from nmfbio.report.registry import find_sections

    if isinstance(results, (str, os.PathLike)):
        results = [results]
    results = list(results)
    if not results:
        raise FileNotFoundError("no RESULT given: pass at least one output folder or result "
                                "file of an nmfbio command")
    out = Path(path)
    if out.is_dir():
        raise FileExistsError(f"report path {out} is a folder; give a file name such as "
                              f"{out / 'report.html'}")
    # before reading: a RESULT file is never the report, nor a file inside a RESULT folder
    # (an earlier report there may be replaced)
    check_not_input([out], results, replaceable=_is_report)
    folders = [Path(r) for r in results if Path(r).is_dir()]
    checked = folders + [sub for f in folders for sub in f.iterdir() if sub.is_dir()]
    check_output_set(checked)
    sections = find_sections(results)
    read = [f for s in sections for f in s.files]
    check_not_input([out], read)
    # files read from elsewhere (a result file given directly, a deeper folder)
    done = {f.resolve() for f in checked}
    check_output_set([f for f in read if Path(f).resolve().parent not in done])
    if title is None:
        title = "nmfbio report: " + ", ".join(str(r) for r in results)
    page = render_page(sections, title=title, inputs=results)
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out
