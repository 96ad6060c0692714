"""Shards of consensus and rank selection: sharded-then-combined equals unsharded, exactly;
bad shard specs and mismatched shards are refused with clear messages (API and CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import planted

import nmfbio
from nmfbio.cli import main
from nmfbio.errors import FormatError, NMFInputError
from nmfbio.model_selection._shards import (
    ConsensusRuns,
    consensus_from_runs,
    consensus_runs,
    load_shard,
    parse_shard,
    select_rank_from_shards,
    select_rank_shard,
    shard_items,
)
from nmfbio.solver import nmf_runs


@pytest.fixture(scope="module")
def X():
    return planted(m=30, n=40, r=3, seed=1)[0]


@pytest.fixture
def counts_csv(tmp_path, X):
    path = tmp_path / "x.csv"
    pd.DataFrame(X, index=[f"f{i}" for i in range(30)],
                 columns=[f"s{j}" for j in range(40)]).to_csv(path)
    return path


# --------------------------------------------------------------------------- shard specs
def test_parse_shard_and_items_partition_the_work():
    assert parse_shard("2/4") == (2, 4) and parse_shard((1, 1)) == (1, 1)
    parts = [shard_items(10, f"{i}/3") for i in (1, 2, 3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert sorted(sum(parts, [])) == list(range(10))


@pytest.mark.parametrize("spec", ["3/2", "0/2", "1/0", "a/b", "2", "1/2/3", (0, 1), (True, 2)])
def test_bad_shard_spec(spec):
    with pytest.raises(NMFInputError, match=r"a shard must be I/N with 1 <= I <= N"):
        parse_shard(spec)


def test_more_shards_than_items():
    with pytest.raises(NMFInputError, match="5 shards of 4 items leave some shards empty"):
        shard_items(4, "1/5")


def test_nmf_runs_subset_equals_the_same_runs_of_the_full_call(X):
    full = nmf_runs(X, 3, loss="kl", restarts=5, seed=7, resample="poisson", init="random")
    part = nmf_runs(X, 3, loss="kl", restarts=5, seed=7, resample="poisson", init="random",
                    run_ids=[4, 1])
    assert [r.params["restart"] for r in part] == [1, 4]
    for r, b in zip(part, (1, 4), strict=True):
        np.testing.assert_array_equal(r.W, full[b].W)
        np.testing.assert_array_equal(r.H, full[b].H)
    with pytest.raises(NMFInputError, match=r"run_ids must be distinct integers in \[0, 5\)"):
        nmf_runs(X, 3, restarts=5, seed=0, run_ids=[1, 5])


# --------------------------------------------------------------------------- API
def test_sharded_consensus_equals_unsharded(X, tmp_path):
    full = nmfbio.consensus(X, 3, restarts=7, seed=3, resample="poisson", threshold=0.7)
    paths = []
    for i in (2, 3, 1):  # any order
        part = consensus_runs(X, 3, shard=(i, 3), restarts=7, seed=3, resample="poisson",
                              threshold=0.7)
        assert part.W.shape == (len(part.run_ids), 30, 3)
        assert part.H.shape == (len(part.run_ids), 3, 40)
        path = tmp_path / f"runs-{i}.h5"
        part.save(path)
        paths.append(path)
    loaded = ConsensusRuns.load(paths[0])
    assert loaded.shard == (2, 3) and loaded.run_ids.tolist() == [1, 4]
    res = consensus_from_runs(paths, X)
    np.testing.assert_allclose(res.W, full.W, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.H, full.H, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.run_W, full.run_W, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.stability, full.stability)
    np.testing.assert_array_equal(res.stable, full.stable)
    assert res.params == full.params and res.threshold == 0.7


def test_sharded_rank_selection_equals_unsharded(X, tmp_path):
    opts = dict(repeats=2, restarts=2, seed=5)
    full = nmfbio.select_rank(X, range(1, 6), **opts)
    paths = []
    for i in (1, 2):
        path = tmp_path / f"rank-{i}.h5"
        select_rank_shard(X, range(1, 6), shard=f"{i}/2", **opts).save(path)
        paths.append(path)
    assert [s["rank"] for s in load_shard(paths[1]).scores] == [2, 4]
    res = select_rank_from_shards(paths)
    pd.testing.assert_frame_equal(res.table, full.table)
    assert (res.best, res.rule, res.params) == (full.best, full.rule, full.params)


def test_combine_refuses_mismatched_or_incomplete_shards(X):
    a = consensus_runs(X, 3, shard="1/2", restarts=6, seed=0)
    b = consensus_runs(X, 3, shard="2/2", restarts=6, seed=0)
    other_rank = consensus_runs(X, 2, shard="2/2", restarts=6, seed=0)
    other_seed = consensus_runs(X, 3, shard="2/2", restarts=6, seed=1)
    other_data = consensus_runs(X + 1.0, 3, shard="2/2", restarts=6, seed=0)
    three = consensus_runs(X, 3, shard="2/3", restarts=6, seed=0)
    with pytest.raises(NMFInputError, match=r"different parameters \(rank: 3 vs 2\)"):
        consensus_from_runs([a, other_rank], X)
    with pytest.raises(NMFInputError, match=r"different parameters \(seed: 0 vs 1\)"):
        consensus_from_runs([a, other_seed], X)
    with pytest.raises(NMFInputError, match="fitted to different data"):
        consensus_from_runs([a, other_data], X)
    with pytest.raises(NMFInputError, match="different numbers of shards"):
        consensus_from_runs([a, three], X)
    with pytest.raises(NMFInputError, match=r"shard\(s\) 2/2 missing"):
        consensus_from_runs([a], X)
    with pytest.raises(NMFInputError, match="shard 1/2 given twice"):
        consensus_from_runs([a, a, b], X)
    with pytest.raises(NMFInputError, match="not the data the runs in shard 1/2"):
        consensus_from_runs([a, b], X + 1.0)
    rank_part = select_rank_shard(X, [1, 2], shard="1/1", repeats=2, restarts=2, seed=0)
    with pytest.raises(NMFInputError, match="cannot combine consensus runs with "
                                            "rank-selection shards"):
        consensus_from_runs([a, rank_part], X)


def test_shards_need_a_seed(X):
    with pytest.raises(NMFInputError, match="a shard needs a seed"):
        consensus_runs(X, 3, shard="1/2", restarts=4)
    with pytest.raises(NMFInputError, match="a shard needs a seed"):
        select_rank_shard(X, [1, 2], shard="1/2")


def test_load_shard_rejects_other_files(tmp_path, X):
    res = nmfbio.fit(X, 2, seed=0)
    res.save(tmp_path / "fit.h5")
    with pytest.raises(FormatError, match="not an nmfbio shard file"):
        load_shard(tmp_path / "fit.h5")
    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(FormatError, match="not an HDF5 file"):
        load_shard(tmp_path / "x.h5")


# --------------------------------------------------------------------------- CLI
def test_cli_shards_then_combine_equal_unsharded(tmp_path, counts_csv, capsys):
    common = [str(counts_csv), "-k", "3", "--restarts", "6", "--seed", "2", "--resample",
              "poisson", "-q"]
    assert main(["consensus", *common, "-o", str(tmp_path / "full")]) == 0
    for i in (1, 2):
        assert main(["consensus", *common, "--shard", f"{i}/2", "-o",
                     str(tmp_path / "sh")]) == 0
    shards = [str(tmp_path / "sh" / f"runs-{i}-of-2.h5") for i in (1, 2)]
    assert main(["combine", *shards, "-o", str(tmp_path / "comb")]) == 0  # recorded input
    assert "consensus of 6 runs at rank 3" in capsys.readouterr().out
    assert main(["combine", *shards, "--input", str(counts_csv), "-q", "-o",
                 str(tmp_path / "comb2")]) == 0
    W = pd.read_csv(tmp_path / "full" / "W.tsv", sep="\t", index_col=0)
    for out in ("comb", "comb2"):
        Wc = pd.read_csv(tmp_path / out / "W.tsv", sep="\t", index_col=0)
        assert list(Wc.index) == list(W.index) and list(Wc.columns) == ["C1", "C2", "C3"]
        np.testing.assert_allclose(Wc.to_numpy(), W.to_numpy(), rtol=0, atol=1e-12)
        assert ((tmp_path / out / "stability.tsv").read_text()
                == (tmp_path / "full" / "stability.tsv").read_text())
        assert (tmp_path / out / "run_cosines.png").stat().st_size > 1000


def test_cli_rank_shards_then_combine(tmp_path, counts_csv, capsys):
    common = [str(counts_csv), "--ranks", "1-4", "--repeats", "2", "--restarts", "2",
              "--seed", "0", "-q"]
    assert main(["rank", *common, "-o", str(tmp_path / "full")]) == 0
    for i in (1, 2, 3):
        assert main(["rank", *common, "--shard", f"{i}/3", "-o", str(tmp_path / "sh")]) == 0
    assert main(["combine", *sorted(map(str, (tmp_path / "sh").glob("rank-*.h5"))), "-q",
                 "-o", str(tmp_path / "comb")]) == 0
    assert ((tmp_path / "comb" / "rank_selection.tsv").read_text()
            == (tmp_path / "full" / "rank_selection.tsv").read_text())


@pytest.mark.parametrize("spec", ["3/2", "0/2", "x"])
def test_cli_bad_shard_exit_2(tmp_path, counts_csv, capsys, spec):
    assert main(["consensus", str(counts_csv), "-k", "2", "--seed", "0", "--shard", spec,
                 "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "argument --shard: a shard must be I/N with 1 <= I <= N" in err and spec in err


def test_cli_shard_errors_exit_2(tmp_path, counts_csv, capsys):
    assert main(["consensus", str(counts_csv), "-k", "2", "--shard", "1/2", "-o",
                 str(tmp_path / "o")]) == 2
    assert "a shard needs a seed" in capsys.readouterr().err
    assert main(["consensus", str(counts_csv), "-k", "2", "--restarts", "3", "--seed", "0",
                 "--shard", "1/4", "-o", str(tmp_path / "o")]) == 2
    assert "4 shards of 3 items leave some shards empty" in capsys.readouterr().err
    for k in (2, 3):
        assert main(["consensus", str(counts_csv), "-k", str(k), "--restarts", "4", "--seed",
                     "0", "--shard", f"{k - 1}/2", "-q", "-o", str(tmp_path / f"k{k}")]) == 0
    assert main(["combine", str(tmp_path / "k2" / "runs-1-of-2.h5"),
                 str(tmp_path / "k3" / "runs-2-of-2.h5"), "-o", str(tmp_path / "c")]) == 2
    assert "different parameters (rank: 2 vs 3)" in capsys.readouterr().err
    assert main(["combine", str(counts_csv), "-o", str(tmp_path / "c")]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
