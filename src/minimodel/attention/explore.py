"""Interactive controls for the theory chapters that need no running kernel.

Every control has a few discrete stops, so every figure it can show is drawn once,
when the cell runs, and kept as a *frame*: a PNG plus the numbers the figure
teaches, as text. The frames sit in nested selection containers (``ipywidgets.Tab``
with its tab bar hidden, so every frame is rendered once and switching only shows
another one), and ``jslink`` ties each control to the ``selected_index`` of the
containers it chooses between.
Moving a control is then pure browser work: it switches frames at once, in
JupyterLab before Run All (the executed notebook stores the widget state) and in
the static book. A control that cannot change the figure in some setting is
swapped, by the same mechanism, for a greyed copy with a note saying why.

Each chapter calls the drawing function, ``*_figure(...) -> (figure, numbers)``,
once in an ordinary cell (strict nbval compares its printed numbers), and shows
the explorer in a cell tagged ``nbval-ignore-output``. For a value between the
stops, call the drawing function yourself.
"""

import functools
import hashlib
import html
import io
import math
import os
import pathlib
import shutil
import sys
import tempfile

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image as PILImage

from minimodel.attention import causal_mask, padding_mask, scaled_dot_product_attention
from minimodel.attention.example import TOKENS, canonical_head_weights, embed
from minimodel.attention.plot import attention_heatmap, head_grid, token_labels

MASK_TYPES = ("none", "causal", "padding", "causal + padding")
PAD = "<pad>"
TEMPERATURES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
D_K = tuple(2**i for i in range(11))
HEADS = (1, 2, 4, 8)
MAX_PAD = 3
FRAME_DPI = 72  # every frame is stored in the notebook: a modest resolution keeps it small
SLIDER = {"layout": {"width": "460px"}, "style": {"description_width": "100px"}}
TOGGLE = {"style": {"description_width": "100px", "button_width": "90px"}}
# ipywidgets marks every widget with no live kernel by a red broken-chain icon; kernel-free is the point
# here, so the explorer hides it (the <style> applies in JupyterLab and in the static book).
# The switches are Tabs whose tab bars are hidden and whose panels have no frame of their own.
QUIET_STYLE = ("<style>.minimodel-explorer .jupyter-widgets-disconnected::before,"
               " .minimodel-explorer.jupyter-widgets-disconnected::before { display: none; }"
               " .minimodel-explorer .minimodel-switch .lm-TabBar,"
               " .minimodel-explorer .minimodel-switch .p-TabBar { display: none !important; }"
               " .minimodel-explorer .minimodel-switch .widget-tab-contents"
               " { border: none !important; padding: 0 !important; overflow: visible; }"
               " .minimodel-explorer .minimodel-switch { overflow: visible; }</style>")
DROPDOWN = {"style": {"description_width": "100px"}, "layout": {"width": "300px"}}


def frame_png(figure, dpi=FRAME_DPI):
    """The figure as PNG bytes with a 256-colour palette (about a third of the size), then closed.

    No metadata and a deterministic palette: redrawing an unchanged figure gives the same bytes.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(figure)
    buffer.seek(0)
    palette = PILImage.open(buffer).convert("RGB").quantize(colors=256)
    out = io.BytesIO()
    palette.save(out, format="png", optimize=True)
    return out.getvalue()


@functools.cache
def _code_version():
    """A hash of everything a frame depends on: the drawing code and the libraries that render it.

    That is the package's other modules and the drawing functions of this one (not the
    controls around them: rearranging those keeps every frame).
    """
    import inspect

    import matplotlib
    import PIL

    digest = hashlib.sha256(f"{matplotlib.__version__} {np.__version__} {PIL.__version__} {FRAME_DPI} {PAD}".encode())
    for source in sorted(pathlib.Path(__file__).parent.glob("*.py")):
        if source.name != "explore.py":
            digest.update(source.read_bytes())
    drawing = (frame_png, entropy, lookup_figure, canonical_scores, scaling_figure, heads_figure, padded_canonical,
               build_mask, mask_figure)
    for function in drawing:
        digest.update(inspect.getsource(function).encode())
    return digest.hexdigest()[:16]


def _cache_folder():
    """Frames already drawn by this very code, or None when caching is off (MINIMODEL_FRAME_CACHE=off)."""
    setting = os.environ.get("MINIMODEL_FRAME_CACHE", "")
    if setting.lower() in ("off", "0", "no"):
        return None
    base = pathlib.Path(setting) if setting else pathlib.Path(sys.prefix) / "var" / "cache" / "minimodel-frames"
    folder = base / _code_version()
    try:
        if not folder.exists():
            folder.mkdir(parents=True)
            for stale in base.iterdir():  # frames of older code can never be used again
                if stale != folder:
                    shutil.rmtree(stale, ignore_errors=True)
    except OSError:
        return None
    return folder


def drawn(draw, *args):
    """``(png, numbers)`` of ``draw(*args) -> (figure, numbers)``.

    A chapter's explorer draws dozens of frames, and the same notebook is executed by
    ``make notebooks``, by strict nbval and by Run All in the browser tests. Frames are
    deterministic, so each one is kept on disk (in this environment, keyed by a hash of
    the code that draws it) and drawn again only when that code changes.
    """
    folder = _cache_folder()
    path = folder / f"{draw.__name__}-{hashlib.sha256(repr(args).encode()).hexdigest()[:20]}.npz" if folder else None
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as stored:
            png = stored["__png__"].tobytes()
            numbers = {k: (stored[k].item() if stored[k].ndim == 0 else stored[k]) for k in stored if k != "__png__"}
        return png, numbers
    figure, numbers = draw(*args)
    png = frame_png(figure)
    if path is not None:
        try:
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
                np.savez(tmp, __png__=np.frombuffer(png, dtype=np.uint8), **numbers)
            os.replace(tmp.name, path)
        except OSError:
            pass  # a read-only environment: no cache, same frames
    return png, numbers


class Explorer:
    """Controls over precomputed frames, switched in the browser by ``jslink``.

    ``controls`` maps a name to the widget a learner moves; ``frames`` maps each
    tuple of control values to its frame widget, whose ``.png``, ``.caption`` and
    ``.numbers`` the tests read; ``links`` lists every jslink. ``view`` is what is displayed.
    """

    def __init__(self):
        self.controls, self.frames, self.links = {}, {}, []
        self._cache = {}
        self.view = None

    def frame(self, values, png, numbers, caption):
        """One frame: the figure's PNG with its caption (identical frames are stored once)."""
        key = (png, caption)
        if key not in self._cache:
            image = widgets.Image(value=png, format="png", layout=widgets.Layout(max_width="100%"))
            text = widgets.HTML(f'<pre style="margin: 0 0 0 1em; line-height: 1.35">{html.escape(caption)}</pre>')
            text.add_class("minimodel-caption")
            leaf = widgets.VBox([image, text])
            leaf.add_class("minimodel-frame")  # CSS classes let the browser tests find the parts
            leaf.png, leaf.caption, leaf.numbers = png, caption, numbers
            self._cache[key] = leaf
        self.frames[values] = self._cache[key]
        return self._cache[key]

    def switch(self, control, trait, children):
        """A container showing ``children[control.<trait>]``, kept in step by a jslink (no kernel needed).

        A ``Tab`` rather than a ``Stack``: a Stack builds the view of its child anew at each
        switch, a Tab builds them all once and only changes which one is visible.
        """
        stack = widgets.Tab(list(children), selected_index=getattr(control, trait))
        stack.add_class("minimodel-switch")
        self.links.append(widgets.jslink((control, trait), (stack, "selected_index")))
        return stack

    def follow(self, control, twin, trait="index"):
        """Keep ``twin`` (a greyed copy of ``control``) showing the same value, through a jslink."""
        self.links.append(widgets.jslink((control, trait), (twin, trait)))
        return twin

    def finish(self, rows, figure):
        self.view = widgets.VBox([widgets.HTML(QUIET_STYLE), *rows, figure])
        self.view.add_class("minimodel-explorer")
        return self

    def _ipython_display_(self):
        from IPython.display import display

        display(self.view)


def note_label(text):
    style = "color: var(--jp-ui-font-color2, #666); margin-left: 1em"
    return widgets.HTML(f'<span style="{style}">{html.escape(text)}</span>')


def with_range(control, text):
    """A control followed by a readout of its range, e.g. 'from 1 to 1024'."""
    return widgets.HBox([control, note_label(text)])


def entropy(weights):
    """Entropy in nats of each row of attention weights (0 · log 0 counts as 0)."""
    w = np.asarray(weights, dtype=float)
    return -np.sum(w * np.log(np.where(w > 0, w, 1.0)), axis=-1)


def _row(values, digits=2):
    return " ".join(f"{v:.{digits}f}" for v in values)


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


def lookup_caption(temperature, numbers, position=6):
    w = numbers["weights"]
    return (f"temperature {temperature:g}\n"
            f"weight on '{TOKENS[position]}' (position {position}): {w[position]:.4f}\n"
            f"weights of keys 0-7: {_row(w, 3)}\n"
            f"entropy: {numbers['entropy']:.3f} nats (0 = one-hot, {math.log(len(TOKENS)):.3f} = uniform)")


def lookup_explorer():
    ex = Explorer()
    options = [(f"{t:g}", t) for t in TEMPERATURES]
    temperature = widgets.SelectionSlider(options=options, value=1.0, description="temperature", **SLIDER)
    ex.controls["temperature"] = temperature
    frames = []
    for t in TEMPERATURES:
        png, numbers = drawn(lookup_figure, t)
        frames.append(ex.frame((t,), png, numbers, lookup_caption(t, numbers)))
    figure = ex.switch(temperature, "index", frames)
    low, high = options[0][0], options[-1][0]
    return ex.finish([with_range(temperature, f"{len(options)} stops from {low} to {high}")], figure)


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


def scaling_caption(d_k, scaled, numbers):
    label = "scores scaled by 1/√d_k" if scaled else "unscaled scores"
    return (f"d_k = {d_k}, {label}\n"
            f"largest weight per row: {_row(numbers['max_weight'])}  (mean {numbers['max_weight'].mean():.2f})\n"
            f"entropy per row (nats): {_row(numbers['entropy'])}  (uniform: {math.log(len(TOKENS)):.2f})")


def scaling_explorer():
    ex = Explorer()
    d_k = widgets.SelectionSlider(options=list(D_K), value=64, description="d_k", **SLIDER)
    scaled = widgets.ToggleButtons(options=[("scaled", True), ("unscaled", False)], description="scores", **TOGGLE)
    ex.controls.update(d_k=d_k, scaled=scaled)
    by_scaling = []
    for s in (True, False):
        frames = []
        for d in D_K:
            png, numbers = drawn(scaling_figure, d, s)
            frames.append(ex.frame((d, s), png, numbers, scaling_caption(d, s, numbers)))
        by_scaling.append(ex.switch(d_k, "index", frames))
    figure = ex.switch(scaled, "index", by_scaling)
    rows = [with_range(d_k, f"powers of 2 from {D_K[0]} to {D_K[-1]}: each step doubles the width"), scaled]
    return ex.finish(rows, figure)


# --- chapter 03: heads side by side -----------------------------------------------------


def heads_figure(n_heads, head=0, d_model=16, seed=0):
    """Every head's weights on the canonical sequence (untrained), the selected one framed and numbered."""
    weights = canonical_head_weights(n_heads, d_model, seed)  # (H, 8, 8)
    title = f"{n_heads} head(s) of width {d_model // n_heads}, untrained"
    fig = head_grid(weights, TOKENS, title=title, highlight=head, annotate_highlight=True)
    return fig, {"weights": weights, "selected_row_7": weights[head, 7]}


def heads_caption(n_heads, head, numbers, d_model=16):
    row = numbers["selected_row_7"]
    best = int(np.argmax(row))
    return (f"{n_heads} head(s) of width {d_model // n_heads}; head {head} shown\n"
            f"head {head}, row 7 (the blank '{TOKENS[7]}'): {_row(row)}\n"
            f"its largest weight: {row[best]:.2f} on key {token_labels(TOKENS)[best]!r}")


def heads_explorer():
    ex = Explorer()
    n_heads = widgets.ToggleButtons(options=list(HEADS), value=4, description="heads", **TOGGLE)
    ex.controls["n_heads"] = n_heads
    sliders, figures = [], []
    for h in HEADS:
        # One "head shown" slider per head count, each with its own range; with one head there is
        # nothing to choose, so that slider is greyed.
        slider = widgets.IntSlider(value=0, min=0, max=h - 1, description="head shown", disabled=h == 1, **SLIDER)
        ex.controls[f"head_of_{h}"] = slider
        note = "one head: nothing to choose" if h == 1 else f"heads 0 to {h - 1}"
        sliders.append(widgets.HBox([slider, note_label(note)]))
        frames = []
        for i in range(h):
            png, numbers = drawn(heads_figure, h, i)
            frames.append(ex.frame((h, i), png, numbers, heads_caption(h, i, numbers)))
        figures.append(ex.switch(slider, "value", frames))
    head_row = ex.switch(n_heads, "index", sliders)
    figure = ex.switch(n_heads, "index", figures)
    return ex.finish([n_heads, head_row], figure)


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
    where = f"{n_pad} pad token(s) on the {side}" if n_pad else "no pad tokens"
    attention_heatmap(weights, tokens, ax=ax_w, title=f"weights, {where}", annotate=annotate)
    if annotate:  # numbers on the allowed pairs only: a masked pair is exactly 0 and stays blank
        for text, allowed in zip(list(ax_w.texts), mask.ravel(), strict=True):
            text.set_fontsize(6.5 if len(tokens) > 10 else 7)
            if not allowed:
                text.remove()
    numbers = {"row_sums": weights.sum(axis=-1), "fully_masked_rows": np.flatnonzero(~mask.any(axis=-1)),
               "pad_weight": weights[valid][:, ~valid].sum(axis=-1)}  # per real query: weight on pad keys
    return fig, numbers


def mask_caption(mask_type, n_pad, side, numbers):
    where = f"{n_pad} pad token(s) on the {side}" if n_pad else "0 pad tokens (so no side)"
    empty = numbers["fully_masked_rows"].tolist()
    lines = [f"mask '{mask_type}', {where}",
             f"rows with no key allowed (weights all 0): {', '.join(map(str, empty)) if empty else 'none'}"]
    if n_pad:
        pad = 100 * numbers["pad_weight"]
        lines.append(f"weight the real queries put on pad keys: mean {pad.mean():.1f} %, largest {pad.max():.1f} %")
    else:
        lines.append("without pad tokens the padding mask allows every pair: 'padding' draws the same weights as"
                     " 'none', and 'causal + padding' the same as 'causal'")
    return "\n".join(lines)


def mask_explorer():
    ex = Explorer()
    mask_type = widgets.Dropdown(options=MASK_TYPES, value="causal", description="mask", **DROPDOWN)
    n_pad = widgets.IntSlider(value=2, min=0, max=MAX_PAD, description="pad tokens", **SLIDER)
    side = widgets.ToggleButtons(options=["left", "right"], value="left", description="padding on", **TOGGLE)
    ex.controls.update(mask_type=mask_type, n_pad=n_pad, side=side)
    by_mask = []
    for m in MASK_TYPES:
        by_pad = []
        for p in range(MAX_PAD + 1):
            by_side = []
            for s in ("left", "right"):
                png, numbers = drawn(mask_figure, m, p, s)
                by_side.append(ex.frame((m, p, s), png, numbers, mask_caption(m, p, s, numbers)))
            # At 0 pads both sides are the same frame: no side toggle to follow.
            by_pad.append(by_side[0] if p == 0 else ex.switch(side, "index", by_side))
        by_mask.append(ex.switch(n_pad, "value", by_pad))
    figure = ex.switch(mask_type, "index", by_mask)
    # With no pad tokens the side cannot matter: the toggle is swapped for a greyed twin.
    twin = widgets.ToggleButtons(options=side.options, value=side.value, description=side.description,
                                 disabled=True, **TOGGLE)
    side_off = widgets.HBox([ex.follow(side, twin), note_label("no pad tokens: the side changes nothing")])
    side_row = ex.switch(n_pad, "value", [side_off] + [side] * MAX_PAD)
    rows = [mask_type, with_range(n_pad, f"from 0 to {MAX_PAD}"), side_row]
    return ex.finish(rows, figure)
