"""Opportunity normalisation: a process's spectrum moved from one territory to another."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nmfbio.signatures as sg
from nmfbio.errors import NMFInputError
from nmfbio.io import opportunities
from nmfbio.io.mutation_types import mutation_type
from nmfbio.signatures.opportunities import channel_contexts


@pytest.fixture(scope="module")
def territories(tmp_path_factory):
    """A random genome with an AT-rich and a GC-rich half; opportunities of the whole
    genome and of a 'capture kit' on the GC-rich half, counted from the FASTA."""
    rng = np.random.default_rng(0)
    at = rng.choice(list("ACGT"), size=20_000, p=[.35, .15, .15, .35])
    gc = rng.choice(list("ACGT"), size=5_000, p=[.15, .35, .35, .15])
    folder = tmp_path_factory.mktemp("opp")
    fa = folder / "g.fa"
    fa.write_text(">1\n" + "".join(at) + "".join(gc) + "\n")
    bed = folder / "kit.bed"
    bed.write_text("1\t20000\t25000\n")
    return {width: (opportunities(fa, width=width), opportunities(fa, bed, width=width))
            for width in (1, 2)}


@pytest.mark.parametrize("name, width", [("SBS96", 1), ("SBS288", 1), ("SBS1536", 2)])
def test_a_process_seen_in_one_territory_is_predicted_in_the_other(territories, name, width):
    # a process = a mutation rate per channel; in a territory, its signature is
    # rate × opportunities of the channel's context, normalised
    labels = list(mutation_type(name).labels)
    contexts = channel_contexts(labels)
    rng = np.random.default_rng(1)
    rate = rng.gamma(0.3, size=(len(labels), 3))
    genome, exome = territories[width]
    in_genome = rate * genome[contexts].to_numpy()[:, None]
    in_exome = rate * exome[contexts].to_numpy()[:, None]
    W = pd.DataFrame(in_genome / in_genome.sum(0), index=labels, columns=["a", "b", "c"])
    want = in_exome / in_exome.sum(0)
    got = sg.convert_opportunities(W, genome, exome)
    assert got.index.equals(W.index) and list(got.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(got.to_numpy(), want, rtol=1e-12)
    assert np.abs(got.to_numpy() - W.to_numpy()).sum(0).min() > 0.05  # it did change
    if exome[contexts].min() > 0:  # (some pentanucleotides never occur in the small kit)
        back = sg.convert_opportunities(got, exome, genome)
        np.testing.assert_allclose(back.to_numpy(), W.to_numpy(), rtol=1e-12)
    else:
        assert (got.to_numpy()[exome[contexts].to_numpy() == 0] == 0).all()


def test_single_strand_counts_of_all_kmers_are_folded():
    labels = list(mutation_type("SBS96").labels)
    W = pd.DataFrame(np.linspace(1, 2, 96)[:, None], index=labels, columns=["s"])
    both = {c: 10.0 for c in channel_contexts(labels)}
    single = {}
    for c in both:  # half on each strand
        from nmfbio.io.sbs96 import reverse_complement
        single[c] = single[reverse_complement(c)] = 5.0
    target = dict(both, ACG=40.0)
    a = sg.convert_opportunities(W, both, target)
    b = sg.convert_opportunities(W, single, target)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy())


def test_bad_input_is_refused(territories):
    genome, exome = territories[1]
    dbs = pd.DataFrame(1.0, index=list(mutation_type("DBS78").labels), columns=["d"])
    with pytest.raises(NMFInputError, match="no sequence context"):
        sg.convert_opportunities(dbs, genome, exome)
    sbs = pd.DataFrame(1.0, index=list(mutation_type("SBS1536").labels), columns=["s"])
    with pytest.raises(NMFInputError, match=r"contexts must be 5 bases.*width=2"):
        sg.convert_opportunities(sbs, genome, exome)
    sbs = pd.DataFrame(1.0, index=list(mutation_type("SBS96").labels), columns=["s"])
    with pytest.raises(NMFInputError, match=r"source has 0 opportunities of \['ACG'\]"):
        sg.convert_opportunities(sbs, genome.where(genome.index != "ACG", 0), exome)
    with pytest.raises(NMFInputError, match=r"target has no count for the context\(s\) "
                                            r"\['ACA'\]"):
        sg.convert_opportunities(sbs, genome, exome.drop("ACA"))
    with pytest.raises(NMFInputError, match="finite and >= 0"):
        sg.convert_opportunities(sbs, genome.where(genome.index != "ACA", -1), exome)
    with pytest.raises(NMFInputError, match="must be a pandas Series"):
        sg.convert_opportunities(sbs, [1, 2], exome)
