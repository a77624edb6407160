"""The chapters' interactive controls, driven programmatically: every change redraws and changes what is shown."""

import math

import numpy as np
import pytest

from minimodel.attention import explore
from minimodel.attention.example import TOKENS


def change(explorer, **values):
    """Set control values; return (png, numbers) after the last redraw, checking one redraw per change."""
    for name, value in values.items():
        before = explorer.redraws
        explorer.controls[name].value = value
        assert explorer.redraws == before + 1, f"changing {name} did not redraw exactly once"
    return explorer.png, explorer.numbers


def test_lookup_explorer_goes_from_hard_to_soft():
    ex = explore.lookup_explorer()
    assert ex.redraws == 1 and ex.png.startswith(b"\x89PNG")
    cold_png, cold = change(ex, temperature=0.01)
    hot_png, hot = change(ex, temperature=100.0)
    assert cold_png != hot_png
    assert cold["weights"][6] > 0.999, "a near-zero temperature should be a hard lookup of 'he'"
    assert hot["entropy"] > 0.99 * math.log(len(TOKENS)), "a large temperature should be nearly uniform"


def test_scaling_explorer_reacts_to_d_k_and_the_toggle():
    ex = explore.scaling_explorer()
    first_png, first = ex.png, ex.numbers
    assert ex.controls["d_k"].options[0] == 1 and ex.controls["d_k"].options[-1] == 1024
    png, numbers = change(ex, d_k=1024)
    assert png != first_png and not np.allclose(numbers["entropy"], first["entropy"])
    scaled_max = numbers["max_weight"].mean()
    png_unscaled, unscaled = change(ex, scaled=False)
    assert png_unscaled != png
    assert unscaled["max_weight"].mean() > scaled_max + 0.2, "unscaled scores at d_k = 1024 are near one-hot"


def test_heads_explorer_keeps_the_head_slider_in_range():
    ex = explore.heads_explorer()
    assert ex.controls["head"].max == 3
    png8, numbers8 = change(ex, n_heads=8)
    assert ex.controls["head"].max == 7
    assert numbers8["weights"].shape == (8, 8, 8)
    png_head, _ = change(ex, head=6)
    assert png_head != png8
    ex.controls["n_heads"].value = 2  # head 6 no longer exists: clipped, then redrawn
    assert ex.controls["head"].value == 1 and ex.numbers["weights"].shape == (2, 8, 8)
    np.testing.assert_allclose(ex.numbers["selected_row_7"], ex.numbers["weights"][1, 7])


@pytest.mark.parametrize("mask_type", ["causal", "padding", "causal + padding"])
def test_mask_explorer_every_mask_type_changes_the_figure(mask_type):
    ex = explore.mask_explorer()
    change(ex, mask_type="none")
    none_png = ex.png
    png, numbers = change(ex, mask_type=mask_type)
    assert png != none_png
    expected_fully_masked = [0, 1] if mask_type == "causal + padding" else []  # 2 pad tokens on the left
    assert numbers["fully_masked_rows"].tolist() == expected_fully_masked
    np.testing.assert_allclose(numbers["row_sums"], [0.0 if i in expected_fully_masked else 1.0 for i in range(10)])


def test_mask_explorer_padding_length_and_side():
    ex = explore.mask_explorer()
    change(ex, mask_type="causal + padding")
    png, numbers = change(ex, n_pad=4)
    assert numbers["fully_masked_rows"].tolist() == [0, 1, 2, 3]
    png_right, numbers_right = change(ex, side="right")
    assert png_right != png
    assert numbers_right["fully_masked_rows"].tolist() == [], "right padding keeps every causal row non-empty"


def test_figure_functions_reject_bad_choices():
    with pytest.raises(ValueError, match="mask_type"):
        explore.mask_figure("diagonal")
    with pytest.raises(ValueError, match="side"):
        explore.mask_figure("causal", side="middle")
