"""Assembly detection: accuracy on planted recordings and speed on a large one.

Accuracy (issue 7's generator, ``nmfbio.datasets.assemblies``: 50 units, 1–10 Hz, 3
assemblies of 5–10 units, one overlapping pair, active in 1–5 % of 25 ms bins at 3× rate,
10 min): per seed, whether the number of assemblies is right; per planted assembly, the
Jaccard of the best-matching found member set and the correlation of its activation with
the truth relative to the oracle's (``oracle_activation``); false assemblies (Jaccard < 0.5
to every planted one). As the reference for member sets, the same membership rule with the
oracle's gates (``oracle_membership``): members it cannot find are beyond any detector that
uses the rule. Null recordings (no assemblies, drifting rates): how many report any
assembly. nmfbio's gated NMF and the PCA/ICA baseline run on the same counts.

Speed: 200 units × 50,000 bins (8 planted assemblies), detection including the choice of
the number of assemblies, timed against the PCA/ICA baseline, and against Elephant's cell
assembly detection (CAD, Russo & Durstewitz 2017) when ``elephant`` is importable (it is
not a dependency; ``--elephant-budget`` caps its time).

Usage::

    python benchmarks/assemblies.py                   # 30 seeds, 40 nulls, big case
    python benchmarks/assemblies.py --seeds 3 --nulls 3 --no-big   # quick look
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from nmfbio.assemblies import detect, ica_baseline
from nmfbio.datasets.assemblies import oracle_activation, oracle_membership, planted_assemblies


def _jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / max(len(a | b), 1)


def _unit_index(ids):
    return sorted(int(str(u).lstrip("u")) for u in ids)


def score(rec, res):
    """Per planted assembly (jaccard, activation corr / oracle corr); false assemblies."""
    oracle = oracle_activation(rec)
    found = [_unit_index(m) for m in res.members]
    rows = []
    for j, members in enumerate(rec.members):
        jac = [_jaccard(f, members) for f in found]
        if not jac or max(jac) < 0.5:
            rows.append((0.0, 0.0))
            continue
        k = int(np.argmax(jac))
        act = res.activations.iloc[:, k].to_numpy()
        c = np.corrcoef(act, rec.active[j])[0, 1]
        c_oracle = np.corrcoef(oracle[j], rec.active[j])[0, 1]
        rows.append((jac[k], c / c_oracle))
    false = sum(1 for f in found if max([_jaccard(f, m) for m in rec.members] or [0]) < 0.5)
    return rows, false


def extra_spikes(rec):
    """Expected spikes each planted assembly adds over the recording (its evidence):
    activations × Σ over members of (gain − 1) × the member's mean rate per bin."""
    return [float(rec.active[j].sum() * (rec.gain - 1.0) * rec.rates[m].mean(axis=1).sum()
                  * rec.bin_width) for j, m in enumerate(rec.members)]


def _by_evidence(J, evidence, out, name):
    """Found (Jaccard ≥ 0.5) and exact (≥ 0.9) planted assemblies per evidence class."""
    parts = []
    for lo, hi in ((0, 700), (700, 1000), (1000, np.inf)):
        m = (evidence >= lo) & (evidence < hi)
        label = f"≥ {lo}" if hi == np.inf else f"{lo}–{hi}"
        parts.append(f"{label}: {int((J[m] >= 0.5).sum())}/{int(m.sum())} found, "
                     f"{int((J[m] >= 0.9).sum())} at J ≥ 0.9")
    out(f"{name:9s}: by extra spikes per planted assembly: " + "; ".join(parts))


def accuracy(n_seeds, n_nulls, out):
    oracle_j = []
    for seed in range(n_seeds):
        rec = planted_assemblies(seed=seed)
        oracle_j += [_jaccard(m, t)
                     for m, t in zip(oracle_membership(rec), rec.members, strict=True)]
    oracle_j = np.array(oracle_j)
    out(f"oracle    : membership rule with the oracle's gates (truth known, other assemblies' "
        f"activity included): Jaccard ≥ 0.9 for {int((oracle_j >= 0.9).sum())}/"
        f"{oracle_j.size} planted (mean {oracle_j.mean():.3f}); the reference for members")
    methods = {"gated-nmf": lambda X: detect(X, bin_width=0.025),
               "pca/ica": lambda X: ica_baseline(X, bin_width=0.025)}
    for name, run in methods.items():
        right = false = 0
        pairs, evidence = [], []
        t0 = time.perf_counter()
        for seed in range(n_seeds):
            rec = planted_assemblies(seed=seed)
            evidence += extra_spikes(rec)
            res = run(rec.counts)
            rows, f = score(rec, res)
            right += res.n_assemblies == len(rec.members)
            false += f
            pairs += rows
            out(f"  {name:9s} seed {seed}: found {res.n_assemblies}; "
                + " | ".join(f"J {a:.2f} c/o {b:.2f}" for a, b in rows))
        J = np.array([a for a, _ in pairs])
        C = np.array([b for _, b in pairs])
        null_hits = 0
        for seed in range(n_nulls):
            rec = planted_assemblies(seed=1000 + seed, n_assemblies=0, drift=0.3)
            null_hits += run(rec.counts).n_assemblies > 0
        out(f"{name:9s}: right number {right}/{n_seeds}; Jaccard ≥ 0.9 for "
            f"{int((J >= 0.9).sum())}/{J.size} planted (mean {J.mean():.3f}); activation ≥ 0.8 "
            f"of oracle for {int((C >= 0.8).sum())}/{C.size} (median {np.median(C):.2f}); false "
            f"assemblies {false}; nulls with any assembly {null_hits}/{n_nulls} "
            f"[{time.perf_counter() - t0:.0f} s]")
        _by_evidence(J, np.array(evidence), out, name)


def _elephant_cad(rec, budget):
    """Elephant's CAD on the same binned spikes, if installed; (seconds, n found) or None."""
    try:
        import neo
        import quantities as pq
        from elephant.cell_assembly_detection import cell_assembly_detection
        from elephant.conversion import BinnedSpikeTrain
    except ImportError:
        return None
    import threading

    t_stop = rec.window[1]
    trains = [neo.SpikeTrain(t * pq.s, t_start=0 * pq.s, t_stop=t_stop * pq.s)
              for t in rec.trains.values()]
    binned = BinnedSpikeTrain(trains, bin_size=rec.bin_width * pq.s, t_start=0 * pq.s,
                              t_stop=t_stop * pq.s)
    result = {}

    def run():
        t0 = time.perf_counter()
        try:
            found = cell_assembly_detection(binned, max_lag=2, reference_lag=2, alpha=0.05,
                                            min_occurrences=5, size_chunks=100, max_spikes=10)
            result["n"] = len(found)
        except Exception as exc:  # report, do not hide, a failure of the peer
            result["error"] = f"{type(exc).__name__}: {exc}"
        result["t"] = time.perf_counter() - t0

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(budget)
    if "error" in result:
        return result["t"], result["error"]
    return (result["t"], result["n"]) if result else (float("inf"), None)


def _say_cad(out, cad, t_nmf, budget):
    """One line on Elephant's CAD: not installed, failed, over budget, or time and count."""
    if cad is None:
        out("  elephant CAD: not installed (pip install elephant to compare)")
    elif isinstance(cad[1], str):
        out(f"  elephant CAD failed after {cad[0]:.1f} s: {cad[1]}")
    elif cad[1] is None:
        out(f"  elephant CAD: did not finish within {budget:.0f} s; ratio "
            f"gated-nmf / CAD < {t_nmf / budget:.3f}")
    else:
        out(f"  elephant CAD (max_lag 2 bins) {cad[0]:.1f} s, found {cad[1]}; ratio "
            f"gated-nmf / CAD {t_nmf / cad[0]:.3f}")


def versus_cad(out, elephant_budget):
    """Issue 7's 50-unit, 10-min recording: gated NMF vs Elephant's CAD, time and findings."""
    rec = planted_assemblies(seed=0)
    t0 = time.perf_counter()
    res = detect(rec.counts, bin_width=0.025)
    t_nmf = time.perf_counter() - t0
    rows, false = score(rec, res)
    cad = _elephant_cad(rec, elephant_budget)
    out(f"50 units × 24000 bins (seed 0): gated-nmf {t_nmf:.1f} s, found {res.n_assemblies} "
        f"(mean Jaccard {np.mean([a for a, _ in rows]):.2f}, false {false})")
    _say_cad(out, cad, t_nmf, elephant_budget)


def big(out, elephant_budget):
    rec = planted_assemblies(n_units=200, n_assemblies=8, duration=1250.0, seed=0)
    out(f"big case: {rec.counts.shape[0]} units × {rec.counts.shape[1]} bins, "
        f"{int(rec.counts.sum())} spikes, 8 planted assemblies")
    detect(rec.counts[:40, :4000], bin_width=0.025, block=5.0)  # compile numba kernels
    t0 = time.perf_counter()
    res = detect(rec.counts, bin_width=0.025)
    t_nmf = time.perf_counter() - t0
    rows, false = score(rec, res)
    t0 = time.perf_counter()
    base = ica_baseline(rec.counts, bin_width=0.025)
    t_ica = time.perf_counter() - t0
    rows_ica, false_ica = score(rec, base)
    out(f"  gated-nmf {t_nmf:6.1f} s  found {res.n_assemblies} (false {false}), mean Jaccard "
        f"{np.mean([a for a, _ in rows]):.2f}  target < 60 s")
    out(f"  pca/ica   {t_ica:6.1f} s  found {base.n_assemblies} (false {false_ica}), mean "
        f"Jaccard {np.mean([a for a, _ in rows_ica]):.2f}")
    out(f"  ratio gated-nmf / pca-ica time: {t_nmf / t_ica:.1f}")
    _say_cad(out, _elephant_cad(rec, elephant_budget), t_nmf, elephant_budget)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--nulls", type=int, default=40)
    p.add_argument("--no-big", action="store_true")
    p.add_argument("--elephant-budget", type=float, default=600.0)
    args = p.parse_args(argv)

    def out(line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    if args.seeds or args.nulls:
        accuracy(args.seeds, args.nulls, out)
    if not args.no_big:
        versus_cad(out, args.elephant_budget)
        big(out, args.elephant_budget)


if __name__ == "__main__":
    main()
