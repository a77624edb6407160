"""The committed heatmap (Definition of Done) must show what the code produces today."""

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from minimodel.attention.example import TOKENS, canonical_head_weights
from minimodel.attention.plot import (
    CANONICAL_HEADS,
    CANONICAL_HEATMAP_CSV,
    CANONICAL_HEATMAP_PNG,
    read_weights_csv,
    save_canonical_heatmap,
    token_labels,
)

FIGURES = pathlib.Path(__file__).resolve().parent.parent / "lab" / "figures"
REFRESH = "refresh it with: make heatmap (then commit lab/figures/)"


def test_committed_weights_match_the_code():
    committed, labels = read_weights_csv(FIGURES / CANONICAL_HEATMAP_CSV)
    assert labels == token_labels(TOKENS)
    now = canonical_head_weights(CANONICAL_HEADS)
    assert committed.shape == now.shape, f"CSV {committed.shape} vs code {now.shape}; {REFRESH}"
    np.testing.assert_allclose(committed, now, atol=1e-6, err_msg=f"the committed heatmap is stale; {REFRESH}")


def test_committed_png_is_the_figure_the_code_draws(tmp_path):
    committed = plt.imread(FIGURES / CANONICAL_HEATMAP_PNG)
    fresh = plt.imread(save_canonical_heatmap(tmp_path)[0])
    assert committed.shape == fresh.shape, REFRESH
    # Same pinned matplotlib, same pixels; a small tolerance absorbs font rasterisation.
    assert np.mean(np.abs(committed - fresh)) < 0.01, REFRESH


def test_saving_is_atomic_and_leaves_no_temporary_files(tmp_path):
    png, csv = save_canonical_heatmap(tmp_path / "figures")
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == sorted([png.name, csv.name])
    weights, _ = read_weights_csv(csv)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
