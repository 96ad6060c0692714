"""HTML reports of nmfbio results: ``nmfbio report RESULT [RESULT ...] -o report.html`` or
:func:`write_report`. A face: it holds no science, it reads what the commands wrote and draws
it with :mod:`nmfbio.plot`.

The page is one self-contained HTML file (figures as base64 PNG, CSS inline, no script, no
external URL) with the inputs and their parameters, one section per result (rank-selection
and stability plots, signature plots of every mutation type and reference matches, program
heatmaps and top genes, assembly rasters and membership, tables) and the software versions.
It is written atomically and never over a file it read.

Modules: :mod:`~nmfbio.report.model` (``Section``, ``ResultKind``, detector helpers),
:mod:`~nmfbio.report.sections` (fit, consensus, rank, anchors),
:mod:`~nmfbio.report.domains` (signatures, programs), :mod:`~nmfbio.report.assemblies`
(neural assemblies), :mod:`~nmfbio.report.registry` (which kinds exist, ``find_sections``),
:mod:`~nmfbio.report.html` (the page, ``write_report``).

Adding a result kind is one function and one registry entry, as
:mod:`~nmfbio.report.assemblies` does for ``nmfbio assemblies detect`` (whose folder holds
``assemblies.h5``):

1. Write a builder ``assemblies_section(path) -> Section`` (e.g. in a new
   ``nmfbio/report/assemblies.py``): load the result, record each file read with
   ``sec.read(path)`` (or read tables with ``sections.read_table``), set ``sec.title``,
   ``sec.summary`` and ``sec.params``, then add ``sec.figure(ax_or_fig, caption)``,
   ``sec.table(frame, caption)`` and ``sec.text(...)`` blocks. Raise
   :class:`~nmfbio.errors.FormatError` for a malformed result (other read errors are turned
   into one).
2. Add one entry to :data:`nmfbio.report.registry.KINDS` (or call ``register`` from your own
   module)::

       ResultKind("assemblies", "assemblies.h5 (nmfbio assemblies detect)",
                  has_files("assemblies.h5"), assemblies_section)

   ``has_files(...)`` finds a folder holding those files (a lone file given directly counts
   as its folder); ``h5_result("assemblies.h5", "nmfbio.AssemblyResult")`` instead
   recognises the HDF5 file by its ``format`` attribute under any name. ``covers=("rank",)``
   hides another kind's section that yours already shows.

Rendering check: ``tests/test_report.py`` opens a report in headless Chromium (Debian
package ``chromium``) and checks, from the DOM after the load event, that every ``<img>``
decoded (``naturalWidth > 0``) and every section is there; the test is skipped when no
``chromium`` binary is on PATH. By hand::

    nmfbio report out/ -o report.html
    chromium --headless --no-sandbox --disable-gpu --screenshot=shot.png \\
        --window-size=1200,2000 file://$PWD/report.html
"""

from nmfbio.report.html import render_page, software_versions, write_report
from nmfbio.report.model import ResultKind, Section, h5_result, has_files
from nmfbio.report.registry import KINDS, find_sections, register

__all__ = ["KINDS", "ResultKind", "Section", "find_sections", "h5_result", "has_files",
           "register", "render_page", "software_versions", "write_report"]
