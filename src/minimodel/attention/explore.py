"""Interactive controls for the theory chapters (ipywidgets + ``%matplotlib inline``).

Each control pairs a plain drawing function, ``*_figure(...) -> (figure, numbers)``,
with widgets that call it again whenever a value changes. A notebook calls the
function once with fixed values in an ordinary cell (so strict nbval compares its
printed numbers) and shows the widget in a cell tagged ``nbval-ignore-output``.
"""

import functools
import io
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

from minimodel.attention import causal_mask, padding_mask, scaled_dot_product_attention
from minimodel.attention.example import TOKENS, canonical_head_weights, embed
from minimodel.attention.plot import attention_heatmap, head_grid, token_labels

MASK_TYPES = ("none", "causal", "padding", "causal + padding")
PAD = "<pad>"


class Explorer:
    """Controls above a figure; changing any control redraws it through ``draw(**values)``.

    The latest figure's PNG bytes and numbers stay on ``.png`` and ``.numbers``
    (the tests read them), and ``.redraws`` counts the redraws.
    """

    def __init__(self, draw, controls):
        self.draw, self.controls = draw, controls
        self.png, self.numbers, self.redraws = None, None, 0
        self.output = widgets.interactive_output(self._redraw, controls)  # draws once now
        self.widget = widgets.VBox([widgets.HBox(list(controls.values())), self.output])

    def _redraw(self, **values):
        figure, self.numbers = self.draw(**values)
        # Rendered here at a fixed size, rather than by the inline backend's
        # "tight" box that draws every figure twice: a slider should feel instant.
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=85)
        plt.close(figure)
        self.png = buffer.getvalue()
        self.redraws += 1
        display(Image(data=self.png))

    def _ipython_display_(self):
        display(self.widget)


def entropy(weights):
    """Entropy in nats of each row of attention weights (0 · log 0 counts as 0)."""
    w = np.asarray(weights, dtype=float)
    return -np.sum(w * np.log(np.where(w > 0, w, 1.0)), axis=-1)


# --- chapter 00: from a hard dictionary lookup to a soft one ----------------------------


def lookup_figure(temperature, position=6):
    """Soft lookup of the key at ``position`` among the canonical tokens, at a temperature.

    The query is that token's own embedding, so a hard lookup returns exactly it;
    the soft lookup weights every key by softmax(q·k / (temperature·√d)).
    """
    x = embed()
    q = x[position : position + 1]  # (1, d)
    _, weights = scaled_dot_product_attention(q, x, x, scale=1.0 / (temperature * math.sqrt(x.shape[-1])))
    weights = weights[0]
    hard = (np.arange(len(TOKENS)) == position).astype(float)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    fig.subplots_adjust(bottom=0.17, top=0.9)
    ax.bar(range(len(TOKENS)), hard, color="none", edgecolor="grey", linestyle="--", label="hard lookup (one-hot)")
    ax.bar(range(len(TOKENS)), weights, color="tab:blue", alpha=0.8, label=f"soft lookup, temperature {temperature:g}")
    ax.set_xticks(range(len(TOKENS)), labels=token_labels(TOKENS))
    ax.set_xlabel("key: position and token")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("weight on each key")
    ax.set_title(f"Looking up '{TOKENS[position]}': entropy {entropy(weights):.2f} nats (uniform: {math.log(8):.2f})")
    ax.legend(loc="upper left")
    return fig, {"weights": weights, "entropy": float(entropy(weights))}


def lookup_explorer():
    temperature = widgets.FloatLogSlider(value=1.0, base=10, min=-2, max=2, step=0.1, description="temperature")
    return Explorer(lookup_figure, {"temperature": temperature})


# --- chapter 02: what 1/√d_k does to the weights ----------------------------------------


def canonical_scores(d_k, seed=0):
    """Queries and keys of width d_k for the canonical sequence, each component of variance ≈ 1."""
    x = embed()  # (8, 16), entries N(0, 1)
    rng = np.random.default_rng([seed, d_k])
    w_q, w_k = rng.normal(0.0, 1.0 / math.sqrt(x.shape[-1]), size=(2, x.shape[-1], d_k))
    return x @ w_q, x @ w_k  # (8, d_k) each


def scaling_figure(d_k, scaled=True, annotate=True):
    """Weights of the canonical sequence for query/key width d_k, with or without 1/√d_k."""
    q, k = canonical_scores(d_k)
    scale = 1.0 / math.sqrt(d_k) if scaled else 1.0
    _, weights = scaled_dot_product_attention(q, k, k, scale=scale)
    numbers = {"max_weight": weights.max(axis=-1), "entropy": entropy(weights)}
    fig, (ax_map, ax_rows) = plt.subplots(1, 2, figsize=(10.5, 4.6), width_ratios=[1.25, 1])
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.2, top=0.92, wspace=0.35)
    label = "scaled by 1/√d_k" if scaled else "unscaled"
    attention_heatmap(weights, TOKENS, ax=ax_map, title=f"d_k = {d_k}, {label}", annotate=annotate)
    rows = np.arange(len(TOKENS))
    ax_rows.barh(rows - 0.2, numbers["max_weight"], height=0.4, label="largest weight (1 = one-hot)")
    relative_entropy = numbers["entropy"] / math.log(len(TOKENS))
    ax_rows.barh(rows + 0.2, relative_entropy, height=0.4, label="entropy ÷ log 8 (1 = uniform)")
    ax_rows.set_yticks(rows, labels=token_labels(TOKENS))
    ax_rows.invert_yaxis()
    ax_rows.set_xlim(0, 1.05)
    ax_rows.set_title("How peaked is each row?")
    ax_rows.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=1, frameon=False, fontsize=9)
    return fig, numbers


def scaling_explorer():
    d_k = widgets.SelectionSlider(options=[2**i for i in range(11)], value=64, description="d_k")
    scaled = widgets.ToggleButtons(options=[("scaled", True), ("unscaled", False)], description="scores")
    # Without the 64 printed numbers a redraw takes about half the time.
    return Explorer(functools.partial(scaling_figure, annotate=False), {"d_k": d_k, "scaled": scaled})


# --- chapter 03: heads side by side -----------------------------------------------------


def heads_figure(n_heads, head=0, d_model=16, seed=0):
    """Every head's weights on the canonical sequence (untrained), the selected one framed."""
    weights = canonical_head_weights(n_heads, d_model, seed)  # (H, 8, 8)
    title = f"{n_heads} head(s) of width {d_model // n_heads}, untrained"
    fig = head_grid(weights, TOKENS, title=title, highlight=head)
    return fig, {"weights": weights, "selected_row_7": weights[head, 7]}


def heads_explorer():
    n_heads = widgets.ToggleButtons(options=[1, 2, 4, 8], value=4, description="heads")
    head = widgets.IntSlider(value=0, min=0, max=3, description="head shown")

    def keep_head_in_range(change):
        head.max = change["new"] - 1  # also clips head.value

    n_heads.observe(keep_head_in_range, names="value")  # registered first: runs before the redraw
    return Explorer(heads_figure, {"n_heads": n_heads, "head": head})


# --- chapter 04: masks ------------------------------------------------------------------


def padded_canonical(n_pad, side="left"):
    """The canonical tokens with ``n_pad`` pad tokens (zero vectors) on one side, and which are real."""
    x = embed()
    pad = np.zeros((n_pad, x.shape[-1]))
    if side == "left":
        tokens, x = (PAD,) * n_pad + TOKENS, np.concatenate([pad, x])
    elif side == "right":
        tokens, x = TOKENS + (PAD,) * n_pad, np.concatenate([x, pad])
    else:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return tokens, x, np.array([t != PAD for t in tokens])


def build_mask(mask_type, valid):
    """The (T, T) boolean mask of one of MASK_TYPES for a sequence whose real tokens are ``valid``."""
    T = len(valid)
    masks = {
        "none": np.ones((T, T), dtype=bool),
        "causal": causal_mask(T),
        "padding": padding_mask(valid[None])[0],
        "causal + padding": causal_mask(T) & padding_mask(valid[None])[0],
    }
    if mask_type not in masks:
        raise ValueError(f"mask_type must be one of {MASK_TYPES}, got {mask_type!r}")
    return np.broadcast_to(masks[mask_type], (T, T))


def mask_figure(mask_type, n_pad=2, side="left", annotate=True):
    """Mask and resulting weights (one head, d_k = 16) for the padded canonical sequence."""
    tokens, x, valid = padded_canonical(n_pad, side)
    mask = build_mask(mask_type, valid)
    _, weights = scaled_dot_product_attention(x, x, x, mask)
    fig, (ax_mask, ax_w) = plt.subplots(1, 2, figsize=(11, 5))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.2, top=0.93, wspace=0.3)
    attention_heatmap(mask.astype(float), tokens, ax=ax_mask, title=f"mask '{mask_type}'", annotate=False,
                      colorbar_label="1 = may attend, 0 = masked")
    attention_heatmap(weights, tokens, ax=ax_w, title=f"weights, {n_pad} pad token(s) on the {side}",
                      annotate=annotate)
    return fig, {"row_sums": weights.sum(axis=-1), "fully_masked_rows": np.flatnonzero(~mask.any(axis=-1))}


def mask_explorer():
    mask_type = widgets.Dropdown(options=MASK_TYPES, value="causal", description="mask")
    n_pad = widgets.IntSlider(value=2, min=0, max=4, description="pad tokens")
    side = widgets.ToggleButtons(options=["left", "right"], value="left", description="padding")
    controls = {"mask_type": mask_type, "n_pad": n_pad, "side": side}
    return Explorer(functools.partial(mask_figure, annotate=False), controls)
