"""``nmfbio consensus``, ``nmfbio rank`` and ``nmfbio anchors`` end to end on small files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import planted_cohort

from nmfbio.cli import main


@pytest.fixture
def counts_csv(tmp_path):
    X = planted_cohort(0, m=30, n=60, r=3)[0]
    df = pd.DataFrame(X, index=[f"ch{i}" for i in range(30)],
                      columns=[f"tumour{j}" for j in range(60)])
    path = tmp_path / "counts.csv"
    df.to_csv(path)
    return path


def test_consensus_command(tmp_path, counts_csv, capsys):
    out = tmp_path / "c"
    assert main(["consensus", str(counts_csv), "-k", "3", "--restarts", "6", "--seed", "0",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "3 of 3 components stable" in text
    st = pd.read_csv(out / "stability.tsv", sep="\t", index_col=0)
    assert list(st.index) == ["C1", "C2", "C3"] and st["stable"].all()
    W = pd.read_csv(out / "W.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(W.sum(axis=0), 1.0)
    assert (out / "stability.png").stat().st_size > 1000
    assert (out / "run_cosines.png").is_file() and (out / "consensus.h5").is_file()


def test_rank_command(tmp_path, counts_csv, capsys):
    out = tmp_path / "r"
    assert main(["rank", str(counts_csv), "--ranks", "1-4", "--repeats", "2",
                 "--restarts", "2", "--seed", "0", "-o", str(out)]) == 0
    assert "recommended rank: 3" in capsys.readouterr().out
    first = (out / "rank_selection.tsv").read_text().splitlines()[0]
    assert first.startswith("# best=3")
    assert (out / "rank_selection.png").is_file()


def test_anchors_command(tmp_path, counts_csv, capsys):
    out = tmp_path / "a"
    assert main(["anchors", str(counts_csv), "-k", "3", "--seed", "0", "--restarts", "2",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "separable" in text and "anchors: tumour" in text
    tab = pd.read_csv(out / "anchors.tsv", sep="\t", index_col=0)
    assert list(tab.columns) == ["purity", "purest_sample", "anchor", "anchor_cosine"]


def test_bad_ranks_and_restarts_exit_2(tmp_path, counts_csv, capsys):
    assert main(["rank", str(counts_csv), "--ranks", "one-five", "-o",
                 str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nmfbio: error: --ranks must look like") and "Traceback" not in err
    assert main(["consensus", str(counts_csv), "-k", "2", "--restarts", "1", "-o",
                 str(tmp_path / "y")]) == 2
    assert "restarts >= 2" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["consensus", "rank", "anchors"])
def test_help_explains_orientation(cmd, capsys):
    assert main([cmd, "--help"]) == 0
    assert "features × samples" in capsys.readouterr().out
