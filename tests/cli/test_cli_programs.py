"""``nmfbio programs find`` end to end on a small h5ad and on the bundled real 10x data."""

from __future__ import annotations

import anndata
import pandas as pd
from expression_data import programs_counts

from nmfbio.cli import main
from nmfbio.datasets import DATA_DIR, TENX_CHR21


def test_programs_find_on_h5ad(tmp_path, capsys):
    ad, _, _ = programs_counts(n_cells=300, n_genes=300, n_types=2, seed=3)
    path = tmp_path / "cells.h5ad"
    ad.write_h5ad(path)
    out = tmp_path / "out"
    assert main(["programs", "find", str(path), "--ranks", "2-4", "--n-top-genes", "200",
                 "--restarts", "6", "--seed", "0", "--groupby", "type", "-o", str(out)]) == 0
    assert "programs from 300 cells" in capsys.readouterr().out
    usage = pd.read_csv(out / "usage.tsv", sep="\t", index_col=0)
    assert usage.shape[0] == 300
    back = anndata.read_h5ad(out / "result.h5ad")
    assert back.obsm["X_programs"].shape == usage.shape
    for name in ("rank_selection.png", "usage.png", "top_genes.png"):
        assert (out / name).stat().st_size > 1000


def test_programs_find_on_real_10x_folder(tmp_path, capsys):
    out = tmp_path / "tenx"
    code = main(["programs", "find", str(DATA_DIR / TENX_CHR21["mtx"]), "--ranks", "2-3",
                 "--n-top-genes", "100", "--restarts", "4", "--seed", "0", "-o", str(out)])
    assert code == 0
    assert (out / "programs.tsv").is_file()
    # the real data have genes without counts: reported as one warning line each
    assert "nmfbio: warning:" in capsys.readouterr().err


def test_text_file_needs_orientation(tmp_path, capsys):
    path = tmp_path / "x.csv"
    pd.DataFrame([[1, 2], [3, 4]], index=["c1", "c2"], columns=["g1", "g2"]).to_csv(path)
    assert main(["programs", "find", str(path), "-o", str(tmp_path / "o")]) == 2
    assert "samples_in" in capsys.readouterr().err
