"""The figure helpers label what they show."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from minimodel.attention.example import TOKENS
from minimodel.attention.plot import attention_heatmap, head_grid, token_labels, weights_text

WEIGHTS = np.full((8, 8), 1 / 8)


def test_heatmap_has_tokens_on_both_axes_a_colour_bar_and_a_title():
    image = attention_heatmap(WEIGHTS, TOKENS, title="uniform weights")
    fig = image.figure
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == token_labels(TOKENS)
    assert [t.get_text() for t in ax.get_yticklabels()] == token_labels(TOKENS)
    assert ax.get_title() == "uniform weights"
    assert len(fig.axes) == 2, "the colour bar is the second axes"
    assert image.get_clim() == (0.0, 1.0), "a fixed scale makes figures comparable"
    assert len(ax.texts) == 64
    plt.close(fig)


def test_heatmap_rejects_weights_that_do_not_match_the_tokens():
    with pytest.raises(ValueError, match=r"\(8, 8\).*7 query"):
        attention_heatmap(WEIGHTS, TOKENS[:7])


def test_head_grid_draws_every_head_and_one_colour_bar():
    fig = head_grid(np.stack([WEIGHTS] * 6), TOKENS, title="six heads", highlight=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6 + 1
    assert "selected" in visible[2].get_title()
    assert fig._suptitle.get_text() == "six heads"
    plt.close(fig)


def test_weights_text_prints_the_heatmap_numbers():
    text = weights_text(np.eye(2), ["he", "___"])
    assert text.splitlines() == ["       0 he 1 ___", "0 he   1.00  0.00", "1 ___  0.00  1.00"]
