"""Mutational signatures: extraction accuracy, refitting without spurious signatures,
matching and decomposition, reference loading without a network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cohorts import cohort, realistic_signatures
from scipy.optimize import linear_sum_assignment

import nmfbio
import nmfbio.signatures as sg
from nmfbio.io.sbs96 import CHANNELS, SUBSTITUTION_MAJOR
from nmfbio.model_selection.matching import cosine_matrix


def precision_recall(true, found):
    """True positives: one-to-one matches at cosine ≥ 0.90 (the field's convention)."""
    C = cosine_matrix(true.to_numpy(), found.to_numpy())
    r, c = linear_sum_assignment(-C)
    tp = int((C[r, c] >= 0.9).sum())
    return tp / found.shape[1], tp / true.shape[1]


@pytest.mark.parametrize("k, n, seed", [(3, 100, 0), (5, 200, 2), (8, 300, 4)])
def test_extraction_recovers_planted_signatures(k, n, seed):
    cat, S, _ = cohort(k, n, seed)
    res = sg.extract(cat, ranks=range(1, 11), restarts=30, seed=0)
    assert res.rank == k
    precision, recall = precision_recall(S, res.signatures)
    assert precision >= 0.9 and recall >= 0.9
    assert list(res.signatures.index) == list(CHANNELS)  # COSMIC (alphabetical) layout
    np.testing.assert_allclose(res.signatures.sum(axis=0), 1.0)
    assert res.exposures.shape == (n, k) and (res.cosine() > 0.8).mean() > 0.9


def test_extraction_is_reproducible_and_accepts_anndata():
    cat, _, _ = cohort(3, 80, 5)
    a = sg.extract(cat, ranks=range(1, 5), restarts=10, seed=3)
    import anndata

    ad = anndata.AnnData(cat.T.to_numpy())
    ad.obs_names = list(cat.columns)
    ad.var_names = list(cat.index)
    b = sg.extract(ad, ranks=range(1, 5), restarts=10, seed=3)
    pd.testing.assert_frame_equal(a.signatures, b.signatures)
    pd.testing.assert_frame_equal(a.exposures, b.exposures)
    # a catalog in substitution-major order is aligned by label
    c = sg.extract(cat.loc[list(SUBSTITUTION_MAJOR)], ranks=range(1, 5), restarts=10, seed=3)
    pd.testing.assert_frame_equal(a.signatures, c.signatures)


def test_refitting_adds_no_spurious_signatures():
    cat, S, E = cohort(6, 300, 3)
    decoys = realistic_signatures(40, 53).iloc[:, 2:]
    decoys.columns = [f"D{i}" for i in range(decoys.shape[1])]
    ref = pd.concat([S, decoys], axis=1)
    res = sg.assign(cat, ref, bootstrap=10, seed=0)
    rel = res.relative()
    truth = pd.DataFrame(False, index=rel.index, columns=rel.columns)
    truth[S.columns] = E > 0
    spurious = ((rel > 0.05) & ~truth).any(axis=1)
    assert spurious.mean() <= 0.05
    # dominant true signatures are found
    dominant = E.div(E.sum(axis=1), axis=0) > 0.5
    assert (rel[S.columns][dominant] > 0).to_numpy()[dominant.to_numpy()].mean() > 0.95
    assert (res.cosine > 0.9).mean() > 0.95
    on = res.exposures.to_numpy() > 0
    inside = ((res.lower.to_numpy() <= res.exposures.to_numpy() + 1e-9)
              & (res.exposures.to_numpy() <= res.upper.to_numpy() + 1e-9))
    assert inside[on].mean() > 0.95  # bootstrap 95 % intervals hold the estimate


def test_match_pairs_and_decomposes():
    S = realistic_signatures(6, 7)
    mix = 0.6 * S["T3"] + 0.4 * S["T5"]
    rng = np.random.default_rng(0)
    novel = pd.Series(rng.dirichlet(np.full(96, 0.05)), index=S.index)
    denovo = pd.DataFrame({"A": S["T2"], "B": mix, "C": novel})
    res = sg.match(denovo, S[["T1", "T2", "T3", "T4", "T5", "T6"]])
    assert res.pairs.loc["A", "reference"] == "T2" and res.pairs.loc["A", "match"]
    dec = res.decomposition
    assert dec.loc["B", "decomposition"].startswith("T3 (0.60) + T5 (0.40)")
    assert dec.loc["B", "cosine"] > 0.999 and not dec.loc["B", "novel"]
    assert dec.loc["C", "novel"]
    assert res.cosine.shape == (3, 6)


def test_reference_from_a_path_and_missing_sets(tmp_path):
    S = realistic_signatures(3, 8)
    path = tmp_path / "my_reference.txt"
    S.loc[list(SUBSTITUTION_MAJOR)].to_csv(path, sep="\t", index_label="Type")
    ref = sg.reference(path)
    assert list(ref.index) == list(CHANNELS)
    np.testing.assert_allclose(ref.to_numpy(), S.to_numpy(), atol=1e-12)
    assert len(ref.attrs["sha256"]) == 64
    with pytest.raises(sg.ReferenceNotFoundError, match="not shipped with nmfbio.*--reference"):
        sg.reference("COSMIC_v3.4_SBS_GRCh38")
    with pytest.raises(sg.ReferenceNotFoundError, match="neither a file nor a registered"):
        sg.reference("COSMIC_v99")


def test_bad_catalogs():
    cat, S, _ = cohort(3, 20, 9)
    with pytest.raises(nmfbio.NMFInputError, match="unknown.*missing"):
        sg.extract(cat.rename(index={"A[C>A]A": "A[C>A]X"}), ranks=[1])
    with pytest.raises(nmfbio.NMFInputError, match=r"one row per channel.* 96 \(SBS96\)"):
        sg.assign(np.ones((10, 3)), S)


def test_assign_docstring_example_runs():
    # the example once had a stray ">>>     >>>" line and used CHANNELS without importing it
    import doctest
    import importlib

    # (the package re-exports the function assign under the submodule's name)
    module = importlib.import_module("nmfbio.signatures.assign")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0


def test_over_split_components_are_merged(tmp_path):
    from nmfbio.signatures.extract import merge_duplicates

    # a consensus with one signature split in two (components 0 and 2, cosine ~0.97)
    cat, S, E = cohort(3, 120, 7)
    fixed = sg.extract(cat, rank=3, ranks=range(1, 4), restarts=10, seed=0, merge=1.0)
    assert fixed.params["merged"] == []
    con = fixed.consensus
    s0 = con.W[:, 0]
    half = s0 * np.random.default_rng(1).uniform(0.7, 1.3, size=96)
    half /= half.sum()
    assert cosine_matrix(s0[:, None], half[:, None])[0, 0] > 0.95
    W = np.column_stack([con.W, half])  # component 3 = component 0 split off
    H = np.vstack([con.H, con.H[:1] * 0.5])
    import dataclasses

    split = dataclasses.replace(con, W=W, H=H, stability=np.array([0.9, 0.95, 0.97, 0.4]),
                                mean_cosine=np.array([0.99, 0.99, 0.99, 0.8]),
                                reproduced=np.array([10, 10, 10, 6]),
                                stable=np.array([True, True, True, False]),
                                run_W=np.stack([W] * con.run_W.shape[0]))
    X = cat.to_numpy(dtype=float)
    new, merged = merge_duplicates(split, X, 0.93)
    assert new.W.shape == (96, 3) and merged == [dict(components=[0, 3], cosine=pytest.approx(
        cosine_matrix(W[:, [0]], W[:, [3]])[0, 0]))]
    # exposure-weighted mean of the members; the weakest member's stability
    w = H.sum(axis=1)[[0, 3]]
    expect = (W[:, [0, 3]] * w).sum(axis=1)
    np.testing.assert_allclose(new.W[:, 0], expect / expect.sum())
    assert new.stability[0] == 0.4 and not new.stable[0] and new.reproduced[0] == 6
    np.testing.assert_allclose(new.W[:, 1:], con.W[:, 1:])
    np.testing.assert_allclose(new.W.sum(axis=0), 1.0)
    # the exposures are refitted (the merged signature carries a third of the noisy half)
    assert new.loss <= con.loss * 1.15
    assert merge_duplicates(split, X, 0.99)[1] == []  # below the threshold: nothing merged
    # through extract: a threshold just below the closest pair of its consensus merges it
    # (same seed, same consensus)
    C = cosine_matrix(con.W, con.W)
    low = float(np.sort(C[np.triu_indices(3, 1)])[-1]) - 1e-3
    res = sg.extract(cat, rank=3, ranks=range(1, 4), restarts=10, seed=0, merge=low)
    assert res.rank == 2 and res.signatures.shape == (96, 2) and res.exposures.shape[1] == 2
    assert len(res.params["merged"]) == 1 and "were merged into one signature" in res.summary()
    res.save(tmp_path / "merged.h5")
    back = type(res).load(tmp_path / "merged.h5")
    assert back.params["merged"] == res.params["merged"] and back.rank == 2
    with pytest.raises(nmfbio.NMFInputError, match="merge must be a cosine"):
        sg.extract(cat, rank=3, ranks=range(1, 4), restarts=10, seed=0, merge=0.0)


def test_sharded_rank_selection_gives_the_unsharded_extraction(tmp_path):
    """The rank selection split into shards (scored separately, saved, loaded) and combined by
    extract gives exactly the unsharded extraction; shards of other data, options or an
    incomplete set are refused."""
    from nmfbio.signatures.extract import HOLDOUT, extract_rank_shard

    cat, _, _ = cohort(3, 80, 5)
    cat.iloc[:, :4] *= 30  # hypermutated samples: the shards see the normalised catalog
    opts = dict(repeats=3, cv_restarts=2, seed=4)
    full = sg.extract(cat, range(1, 6), restarts=10, **opts)
    assert full.params["normalization"]["scaled"]
    assert full.selection.params["holdout"] == HOLDOUT == 0.05  # extract's own hold-out
    paths = []
    for i in (1, 2, 3):
        part = extract_rank_shard(cat, range(1, 6), shard=f"{i}/3", **opts)
        paths.append(tmp_path / f"rank-{i}.h5")
        part.save(paths[-1])
    res = sg.extract(cat, range(1, 6), restarts=10, shards=paths[::-1], **opts)
    pd.testing.assert_frame_equal(res.selection.table, full.selection.table)
    assert res.selection.rule == full.selection.rule and res.rank == full.rank == 3
    pd.testing.assert_frame_equal(res.signatures, full.signatures)
    pd.testing.assert_frame_equal(res.exposures, full.exposures)
    with pytest.raises(nmfbio.NMFInputError, match="run with other options than this run "
                                                   r"\(repeats: 3 in the shards, 4 here; "
                                                   "seed: "):
        sg.extract(cat, range(1, 6), restarts=10, shards=paths, repeats=4, cv_restarts=2,
                   seed=5)
    with pytest.raises(nmfbio.NMFInputError, match="computed from other data"):
        sg.extract(cat, range(1, 6), restarts=10, shards=paths, normalize="none", **opts)
    with pytest.raises(nmfbio.NMFInputError, match="computed from other data"):
        sg.extract(cat + 1, range(1, 6), restarts=10, shards=paths, **opts)
    with pytest.raises(nmfbio.NMFInputError, match=r"shard\(s\) 2/3 missing"):
        sg.extract(cat, range(1, 6), restarts=10, shards=paths[::2], **opts)
    with pytest.raises(nmfbio.NMFInputError, match="needs a seed"):
        extract_rank_shard(cat, range(1, 6), shard="1/3", repeats=3)
    with pytest.raises(nmfbio.NMFInputError, match="needs the seed they were run with"):
        sg.extract(cat, range(1, 6), restarts=10, shards=paths, repeats=3, cv_restarts=2)
    # one file, not a list: one shard of three, not a list of characters
    with pytest.raises(nmfbio.NMFInputError, match=r"shard\(s\) 2/3, 3/3 missing"):
        sg.extract(cat, range(1, 6), restarts=10, shards=str(paths[0]), **opts)
