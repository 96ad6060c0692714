"""Joint extraction across types: planted joint signatures that share their SBS96 profile
but differ in DBS78 and ID83 are merged by an SBS96-only fit and recovered by the joint one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cohorts import typed_signatures
from scipy.optimize import linear_sum_assignment

import nmfbio
import nmfbio.signatures as sg
from nmfbio.model_selection.matching import cosine_matrix


def _planted(n=120, seed=0):
    """Three joint signatures; A and B have one SBS96 profile and distinct DBS/ID ones."""
    rng = np.random.default_rng(seed)
    sbs = typed_signatures("SBS96", 2, seed=1)
    parts = {"SBS96": pd.concat([sbs.iloc[:, [0, 0]], sbs.iloc[:, [1]]], axis=1),
             "DBS78": typed_signatures("DBS78", 3, seed=2),
             "ID83": typed_signatures("ID83", 3, seed=3)}
    per_type = {"SBS96": 3000.0, "DBS78": 300.0, "ID83": 600.0}  # mean mutations per tumour
    E = np.zeros((3, n))
    for j in range(n):
        which = rng.choice(3, size=int(rng.integers(1, 3)), replace=False)
        E[which, j] = rng.dirichlet(np.ones(len(which)))
    E *= rng.uniform(0.3, 2.0, size=n)
    cats = {t: pd.DataFrame(rng.poisson(parts[t].to_numpy() @ E * per_type[t]),
                            index=parts[t].index, columns=[f"t{j}" for j in range(n)])
            for t in parts}
    return cats, parts


def _recall(true, found):
    C = cosine_matrix(true.to_numpy(), found.to_numpy())
    r, c = linear_sum_assignment(-C)
    return int((C[r, c] >= 0.9).sum()) / true.shape[1]


def test_joint_fit_separates_what_an_sbs_fit_merges():
    cats, parts = _planted()
    alone = sg.extract(cats["SBS96"], ranks=range(1, 6), restarts=10, seed=0)
    assert alone.rank == 2  # A and B are one SBS96 signature
    joint = sg.extract_joint(cats, ranks=range(1, 6), restarts=10, seed=0)
    assert joint.rank == 3 and joint.types == ["SBS96", "DBS78", "ID83"]
    for t in ("DBS78", "ID83"):
        assert _recall(parts[t], joint.signatures_of(t)) == 1.0, t
    np.testing.assert_allclose(joint.signatures_of("ID83").sum(axis=0), 1.0)
    np.testing.assert_allclose(joint.shares.sum(axis=1), 1.0)
    # SBS96 holds most mutations of every signature (3000 of 3900 per unit exposure)
    assert (joint.shares["SBS96"].between(0.6, 0.9)).all()
    # exposures are in mutations of all types: they add up to the catalogs
    total = sum(c.to_numpy().sum() for c in cats.values())
    assert joint.exposures.to_numpy().sum() == pytest.approx(total, rel=0.02)
    by_type = joint.exposures_of("DBS78").to_numpy().sum()
    assert by_type == pytest.approx(cats["DBS78"].to_numpy().sum(), rel=0.05)


def test_equal_weights_and_save_load(tmp_path):
    cats, _ = _planted(n=60, seed=1)
    res = sg.extract_joint(cats, ranks=[3], restarts=4, weights="equal", seed=0)
    w = res.params["type_weights"]
    assert w[0] < 1 < w[1]  # SBS scaled down, DBS up
    res.save(tmp_path / "j.h5")
    back = sg.JointExtractionResult.load(tmp_path / "j.h5")
    pd.testing.assert_frame_equal(back.signatures_of("DBS78"), res.signatures_of("DBS78"))
    assert "3 joint signatures over SBS96, DBS78, ID83" in back.summary()


def test_bad_joint_inputs():
    cats, _ = _planted(n=20)
    with pytest.raises(nmfbio.NMFInputError, match="at least two mutation types"):
        sg.extract_joint({"SBS96": cats["SBS96"]})
    with pytest.raises(nmfbio.NMFInputError, match="each mutation type once"):
        sg.extract_joint({"a": cats["ID83"], "b": cats["ID83"]})
    with pytest.raises(nmfbio.NMFInputError, match="hold different samples"):
        sg.extract_joint({"SBS96": cats["SBS96"], "DBS78": cats["DBS78"].iloc[:, 1:]})
    with pytest.raises(nmfbio.NMFInputError, match="weights must be one of"):
        sg.extract_joint(cats, weights="log")


def test_joint_merges_over_split_components():
    cats, _ = _planted(n=60, seed=1)
    kept = sg.extract_joint(cats, ranks=[3], restarts=4, seed=0, merge=1.0)
    assert kept.params["merged"] == [] and kept.rank == 3
    # a threshold just below the closest pair of that (same-seed) consensus merges the pair
    from nmfbio.model_selection.matching import cosine_matrix

    W = kept.consensus.W
    edges = np.cumsum([0, *kept.params["sizes"]])
    C = np.min([cosine_matrix(W[a:b], W[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)],
               axis=0)
    low = float(np.sort(C[np.triu_indices(3, 1)])[-1]) - 1e-3
    res = sg.extract_joint(cats, ranks=[3], restarts=4, seed=0, merge=low)
    assert res.rank == 2 and res.exposures.shape[1] == 2
    assert len(res.params["merged"]) == 1 and "were merged into one signature" in res.summary()
    for t in res.types:  # every type's block still sums to 1 per signature
        np.testing.assert_allclose(res.signatures_of(t).sum(axis=0), 1.0)


def test_joint_normalisation_scales_hypermutators_and_refits_raw_exposures():
    """A few tumours with 20× the mutations of one joint signature: scaled down by their
    total over all types before fitting (one factor per tumour), exposures of the raw counts."""
    cats, parts = _planted(n=120, seed=4)
    rng = np.random.default_rng(9)
    hyper = [f"t{j}" for j in rng.choice(120, 8, replace=False)]
    extra = 20 * np.array([3000.0, 300.0, 600.0])
    for t, scale in zip(("SBS96", "DBS78", "ID83"), extra, strict=True):
        P = parts[t].to_numpy()[:, 2]
        for name in hyper:
            cats[t][name] += rng.poisson(P * scale)
    res = sg.extract_joint(cats, ranks=range(2, 5), restarts=10, seed=0)
    norm = res.params["normalization"]
    assert norm["applied"] == "gmm" and sorted(norm["scaled"]) == sorted(hyper)
    table = res.normalization_table()
    assert table.loc[hyper, "fitted_as"].to_numpy() == pytest.approx(norm["cutoff"])
    raw = sum(c.sum(axis=0) for c in cats.values())
    np.testing.assert_allclose(table["mutations"], raw[table.index])
    assert res.rank == 3
    for t in res.types:
        assert _recall(parts[t], res.signatures_of(t)) == 1.0, t
    # exposures refitted on the raw counts: a hypermutator's exposures add up to its total
    np.testing.assert_allclose(res.exposures.loc[hyper].sum(axis=1), raw[hyper], rtol=0.02)
    assert "Normalisation: 8 of 120 samples" in res.summary()
    plain = sg.extract_joint(cats, ranks=[3], restarts=4, seed=0, normalize="none")
    assert plain.params["normalization"]["scaled"] == []
    assert (plain.normalization_table()["fitted_as"] == raw[plain.catalog.columns]).all()
    with pytest.raises(nmfbio.NMFInputError, match="normalize must be one of"):
        sg.extract_joint(cats, normalize="zscore")


def test_equal_weights_are_equal_in_what_is_fitted_after_normalisation():
    """Indel-heavy hypermutators (as MSI tumours are) change the types' totals when they are
    scaled down: "equal" weights the types by what is fitted, so each carries a third."""
    cats, parts = _planted(n=60, seed=2)
    rng = np.random.default_rng(3)
    hyper = [f"t{j}" for j in rng.choice(60, 5, replace=False)]
    for t, scale in (("SBS96", 20_000.0), ("DBS78", 2_000.0), ("ID83", 60_000.0)):
        for name in hyper:
            cats[t][name] += rng.poisson(parts[t].to_numpy()[:, 0] * scale)
    res = sg.extract_joint(cats, ranks=[3], restarts=4, seed=0, weights="equal")
    assert sorted(res.params["normalization"]["scaled"]) == sorted(hyper)
    table = res.normalization_table()
    factor = table["fitted_as"] / table["mutations"]
    fitted = [float((cats[t] * factor[cats[t].columns]).to_numpy().sum()) * w
              for t, w in zip(res.types, res.params["type_weights"], strict=True)]
    np.testing.assert_allclose(fitted, np.mean(fitted), rtol=1e-9)
