"""The report section for neural assemblies (``nmfbio assemblies detect`` → ``assemblies.h5``,
HDF5 with the format attribute ``nmfbio.AssemblyResult``): parameters, the summary table
(members, adjusted p-values, events, held-out gains), the members with their weights and
z-scores, and the four figures (raster grouped by assembly, membership heatmap, activation
traces with events, null distribution). It loads the result and draws it with
:mod:`nmfbio.plot.assemblies`; no science. The registry entry is in
:mod:`nmfbio.report.registry`.
"""

from __future__ import annotations

from pathlib import Path

from nmfbio.report.model import MAX_TABLE_ROWS, Section, h5_result

__all__ = ["assemblies_section", "detect_assemblies", "FORMAT"]

#: the ``format`` attribute of :meth:`nmfbio.assemblies.AssemblyResult.save` files
FORMAT = "nmfbio.AssemblyResult"

#: the detector: ``assemblies.h5`` in a folder, or any HDF5 file with :data:`FORMAT`
detect_assemblies = h5_result("assemblies.h5", FORMAT)


def assemblies_section(path: Path) -> Section:
    """``nmfbio assemblies detect``: parameters, summary and members tables, four figures.

    Parameters
    ----------
    path : Path
        The ``assemblies.h5`` file (as found by :data:`detect_assemblies`).

    Returns
    -------
    Section

    Raises
    ------
    nmfbio.errors.FormatError
        Not an assemblies result, or an unreadable one.

    Examples
    --------
    For the folder ``nmfbio assemblies detect ... -o out`` wrote::

        sec = assemblies_section(Path("out/assemblies.h5"))
        sec.title  # 'Neural assemblies: 3 assemblies (gated Poisson NMF)'
    """
    from nmfbio.assemblies import AssemblyResult
    from nmfbio.report.sections import _load

    sec = Section("", "assemblies", path)
    res = _load(AssemblyResult.load, sec.read(path))
    ica = res.params.get("method") == "ica"
    k = res.n_assemblies
    n_units, n_bins = res.counts.shape
    width = float(res.params["bin_width"])
    method = "PCA/ICA baseline" if ica else "gated Poisson NMF"
    sec.title = f"Neural assemblies: {k} assembl{'y' if k == 1 else 'ies'} ({method})"
    sec.summary = (f"{res.summary()}\n{n_units} units × {n_bins} bins of {width:g} s "
                   f"({n_bins * width:g} s from {float(res.bin_times[0]):g} s); "
                   f"{len(res.events)} activation events")
    sec.params = dict(res.params)
    if ica:
        sec.text("PCA/ICA baseline (Lopes-dos-Santos et al. 2013): the number of assemblies "
                 "is the number of correlation eigenvalues above the Marchenko–Pastur edge; "
                 "members have weights above mean + 2 SD. There is no significance test "
                 "(p-values are NaN) and no activation events.")
    elif k == 0:
        sec.text("No assembly passed the held-out test: no group of units fired together "
                 "more than their own (slowly varying) background explains.")
    sec.figure(res.plot_raster(), "Spike raster in a window (bins with spikes as ticks), "
               "units grouped by assembly in the assembly's colour (a unit in two assemblies "
               "is shown in both blocks, grey: no assembly); shaded: detected activation "
               "events.")
    if k:
        what = ("signed ICA weights" if ica else "leave-one-out membership z-scores")
        sec.figure(res.plot_membership(), f"Membership: {what} of every unit (rows, grouped "
                   "by assembly) in every assembly (columns); members outlined.")
        sec.figure(res.plot_activations(), "Activation of each assembly over the same window"
                   + (" (ICA activation strength, scaled)." if ica else
                      ": the probability that it is on in each bin; shaded: events "
                      "(probability > 0.5)."))
        if not ica:
            sec.figure(res.plot_null(), "Held-out log-likelihood gain of each assembly "
                       "(line) against the gains of shift surrogates of the test blocks "
                       "(histogram); title: Holm-adjusted p-value.")
        sec.table(res.summary_table(), "Per assembly: members, adjusted held-out p-value, "
                  "activation events and held-out gain.")
        sec.table(res.members_table(), "Members of each assembly, strongest first"
                  + (" (weight: signed ICA weight)." if ica else ": weight_hz, the extra "
                     "firing rate while the assembly is on; gain, firing while on relative "
                     "to the background; z, the leave-one-out membership z-score."),
                  note="all rows in members.tsv" if sum(map(len, res.members)) > MAX_TABLE_ROWS
                  else "")
    return sec
