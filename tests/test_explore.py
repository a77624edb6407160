"""The chapters' controls: precomputed frames switched by jslinks, checked without a browser.

A jslink runs in the browser only. ``follow_links`` does here what the browser does
(copy each link's source trait to its target), so these tests can walk the switches (Tabs)
to the frame and the controls a learner would see. tests/browser/ checks the same
in JupyterLab itself.
"""

import itertools
import math
import pathlib

import ipywidgets as widgets
import numpy as np
import pytest

from minimodel.attention import explore
from minimodel.attention.example import TOKENS

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def explorers():
    return {}


def get(explorers, name):
    if name not in explorers:
        explorers[name] = getattr(explore, name)()
    return explorers[name]


def follow_links(ex):
    for _ in range(2):  # a twin may follow a control that a switch also follows
        for link in ex.links:
            (source, s_trait), (target, t_trait) = link.source, link.target
            setattr(target, t_trait, getattr(source, s_trait))


def visible(widget):
    """The widgets a learner sees inside ``widget``: a switch shows only its selected child."""
    if hasattr(widget, "selected_index"):
        return visible(widget.children[widget.selected_index])
    if isinstance(widget, widgets.Box) and not hasattr(widget, "png"):
        return [leaf for child in widget.children for leaf in visible(child)]
    return [widget]


def shown(ex):
    (frame,) = visible(ex.view.children[-1])
    return frame


def visible_controls(ex):
    return [w for row in ex.view.children[:-1] for w in visible(row) if isinstance(w, widgets.ValueWidget)]


def set_values(ex, **values):
    for name, value in values.items():
        ex.controls[name].value = value
    follow_links(ex)
    return shown(ex)


def settings(name):
    if name == "lookup_explorer":
        return [{"temperature": t} for t in explore.TEMPERATURES]
    if name == "scaling_explorer":
        return [{"d_k": d, "scaled": s} for s in (True, False) for d in explore.D_K]
    if name == "heads_explorer":
        return [{"n_heads": h, f"head_of_{h}": i} for h in explore.HEADS for i in range(h)]
    return [{"mask_type": m, "n_pad": p, "side": s}
            for m, p, s in itertools.product(explore.MASK_TYPES, range(explore.MAX_PAD + 1), ("left", "right"))]


EXPLORERS = ["lookup_explorer", "scaling_explorer", "heads_explorer", "mask_explorer"]


@pytest.mark.parametrize("name", EXPLORERS)
def test_the_stored_state_shows_the_default_frame(explorers, name):
    ex = get(explorers, name)
    # Before any link has run (what the notebook stores), the switches already select the default.
    defaults = tuple(c.value for n, c in ex.controls.items() if not n.startswith("head_of_") or n == "head_of_4")
    assert shown(ex) is ex.frames[defaults]


@pytest.mark.parametrize("name", EXPLORERS)
def test_every_setting_shows_its_own_frame_with_a_figure_and_its_numbers(explorers, name):
    ex = get(explorers, name)
    for values in settings(name):
        frame = set_values(ex, **values)
        wanted = tuple(values.values())
        assert frame is ex.frames[wanted], f"{values}: the switches select another frame"
        assert frame.png.startswith(b"\x89PNG") and len(frame.png) > 5000, f"{values}: blank or tiny figure"
        first_line = frame.caption.splitlines()[0]
        for control, value in values.items():
            if control == "side" and values["n_pad"] == 0:
                continue  # no pads, no side: one frame for both
            shown_value = f"{value:g}" if isinstance(value, float) else str(value)
            if isinstance(value, bool):
                shown_value = "scaled by" if value else "unscaled"
            assert shown_value in first_line, f"{values}: the caption does not name {shown_value!r}"


@pytest.mark.parametrize("name", EXPLORERS)
def test_every_stack_is_driven_by_a_link_and_frames_are_deterministic(explorers, name):
    ex = get(explorers, name)
    targets = {id(link.target[0]) for link in ex.links}

    def stacks(widget):
        if isinstance(widget, widgets.Box):
            here = [widget] if hasattr(widget, "selected_index") else []
            return here + [s for child in widget.children for s in stacks(child)]
        return []

    assert all(id(s) in targets for s in stacks(ex.view)), "a switch no control drives"
    values = settings(name)[0]
    figure, _ = {"lookup_explorer": lambda: explore.lookup_figure(values["temperature"]),
                 "scaling_explorer": lambda: explore.scaling_figure(values["d_k"], values["scaled"]),
                 "heads_explorer": lambda: explore.heads_figure(1, 0),
                 "mask_explorer": lambda: explore.mask_figure("none", 0, "left")}[name]()
    assert explore.frame_png(figure) == ex.frames[tuple(values.values())].png, "redrawing gave other bytes"


def test_lookup_frames_go_from_hard_to_soft(explorers):
    ex = get(explorers, "lookup_explorer")
    cold, hot = ex.frames[(0.01,)].numbers, ex.frames[(100.0,)].numbers
    assert cold["weights"][6] > 0.999, "a near-zero temperature should be a hard lookup of 'he'"
    assert hot["entropy"] > 0.99 * math.log(len(TOKENS)), "a large temperature should be nearly uniform"
    pngs = [ex.frames[(t,)].png for t in explore.TEMPERATURES]
    assert len(set(pngs)) == len(pngs), "two temperatures draw the same figure"


def test_scaling_frames_differ_for_every_d_k_and_both_scalings(explorers):
    ex = get(explorers, "scaling_explorer")
    assert ex.controls["d_k"].options == explore.D_K and explore.D_K[0] == 1 and explore.D_K[-1] == 1024
    pngs = {ex.frames[(d, s)].png for d in explore.D_K for s in (True, False)}
    assert len(pngs) == 2 * len(explore.D_K)
    scaled, unscaled = ex.frames[(1024, True)].numbers, ex.frames[(1024, False)].numbers
    assert unscaled["max_weight"].mean() > scaled["max_weight"].mean() + 0.2, "unscaled at d_k = 1024 is near one-hot"


def test_one_head_greys_the_head_slider_and_more_heads_give_it_their_range(explorers):
    ex = get(explorers, "heads_explorer")
    for h in explore.HEADS:
        set_values(ex, n_heads=h)
        (head,) = [w for w in visible_controls(ex) if w.description == "head shown"]
        assert head is ex.controls[f"head_of_{h}"] and (head.min, head.max) == (0, h - 1)
        assert head.disabled == (h == 1), f"{h} head(s): the head slider should be {'off' if h == 1 else 'on'}"
        notes = " ".join(w.value for row in ex.view.children[:-1] for w in visible(row) if isinstance(w, widgets.HTML))
        assert ("nothing to choose" in notes) == (h == 1) and (h == 1 or f"heads 0 to {h - 1}" in notes)
        pngs = [ex.frames[(h, i)].png for i in range(h)]
        assert len(set(pngs)) == h, "moving the head slider must change the figure"


def test_the_head_blank_sequence_shows_a_full_figure(explorers):
    """The sequence that used to blank the figure: 4 heads, head 3, then 1 head."""
    ex = get(explorers, "heads_explorer")
    for _ in range(20):
        set_values(ex, n_heads=4, head_of_4=3)
        assert shown(ex) is ex.frames[(4, 3)]
        frame = set_values(ex, n_heads=1)
        assert frame is ex.frames[(1, 0)] and len(frame.png) > 5000
        np.testing.assert_allclose(frame.numbers["weights"].shape, (1, 8, 8))
    set_values(ex, n_heads=4)
    assert shown(ex) is ex.frames[(4, 3)], "coming back to 4 heads keeps head 3"


def test_zero_pads_grey_the_side_toggle_and_pads_bring_it_back(explorers):
    ex = get(explorers, "mask_explorer")
    for mask_type, side in itertools.product(explore.MASK_TYPES, ("left", "right")):
        set_values(ex, mask_type=mask_type, side=side, n_pad=0)
        (toggle,) = [w for w in visible_controls(ex) if w.description == "padding on"]
        assert toggle is not ex.controls["side"] and toggle.disabled and toggle.value == side
        assert ex.frames[(mask_type, 0, "left")] is ex.frames[(mask_type, 0, "right")], "0 pads: one frame"
        for n_pad in range(1, explore.MAX_PAD + 1):
            set_values(ex, n_pad=n_pad)
            (toggle,) = [w for w in visible_controls(ex) if w.description == "padding on"]
            assert toggle is ex.controls["side"] and not toggle.disabled
            left, right = ex.frames[(mask_type, n_pad, "left")], ex.frames[(mask_type, n_pad, "right")]
            assert left.png != right.png and left.caption != right.caption


def test_the_pad_slider_visibly_changes_every_mask_type(explorers):
    """Under every mask, causal included, each pad count draws other weights and states the pad keys' share."""
    ex = get(explorers, "mask_explorer")
    for mask_type, side in itertools.product(explore.MASK_TYPES, ("left", "right")):
        frames = [ex.frames[(mask_type, p, side)] for p in range(explore.MAX_PAD + 1)]
        assert len({f.png for f in frames}) == len(frames), f"{mask_type}: a pad count changes nothing"
        assert len({f.caption for f in frames}) == len(frames)
        for p, frame in enumerate(frames[1:], start=1):
            assert "weight the real queries put on pad keys" in frame.caption
            share = frame.numbers["pad_weight"]
            assert share.shape == (len(TOKENS),)
            if "padding" in mask_type:
                np.testing.assert_allclose(share, 0.0, atol=1e-12)  # the padding mask cuts pad keys off
            elif mask_type == "none" or side == "left":
                assert share.max() > 0.001, f"{mask_type}, {p} pad(s) on the {side}: pads should take some weight"


def test_zero_pads_say_that_padding_equals_no_mask(explorers):
    ex = get(explorers, "mask_explorer")
    none, padding = ex.frames[("none", 0, "left")], ex.frames[("padding", 0, "left")]
    assert none.png != padding.png, "the title names the mask, so the learner sees the switch"
    assert "'padding' draws the same weights as 'none'" in padding.caption
    np.testing.assert_allclose(none.numbers["row_sums"], padding.numbers["row_sums"])


@pytest.mark.parametrize("mask_type", ["causal", "padding", "causal + padding"])
def test_mask_frames_count_the_fully_masked_rows(explorers, mask_type):
    ex = get(explorers, "mask_explorer")
    numbers = ex.frames[(mask_type, 2, "left")].numbers
    expected_fully_masked = [0, 1] if mask_type == "causal + padding" else []  # 2 pad tokens on the left
    assert numbers["fully_masked_rows"].tolist() == expected_fully_masked
    np.testing.assert_allclose(numbers["row_sums"], [0.0 if i in expected_fully_masked else 1.0 for i in range(10)])
    assert ex.frames[("causal + padding", 3, "left")].numbers["fully_masked_rows"].tolist() == [0, 1, 2]
    assert ex.frames[("causal + padding", 3, "right")].numbers["fully_masked_rows"].tolist() == []


def test_sliders_have_room_and_a_range_readout(explorers):
    for name in EXPLORERS:
        ex = get(explorers, name)
        for control in ex.controls.values():
            if isinstance(control, (widgets.IntSlider, widgets.SelectionSlider)):
                assert control.readout and int(control.layout.width.rstrip("px")) >= 400, f"{name}: a cramped slider"
        notes = [w.value for row in ex.view.children[:-1] for w in visible(row) if isinstance(w, widgets.HTML)]
        assert any(" to " in n for n in notes), f"{name}: no readout of the range"


def test_figure_functions_reject_bad_choices():
    with pytest.raises(ValueError, match="mask_type"):
        explore.mask_figure("diagonal")
    with pytest.raises(ValueError, match="side"):
        explore.mask_figure("causal", side="middle")


@pytest.mark.parametrize("ipynb", sorted((ROOT / "theory").glob("*.ipynb")), ids=lambda p: p.name)
def test_chapter_stays_under_the_size_budget(ipynb):
    assert ipynb.stat().st_size < 3_000_000, f"{ipynb.name} is {ipynb.stat().st_size / 1e6:.1f} MB (budget: 3 MB)"
