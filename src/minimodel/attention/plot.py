"""Figures of attention weights: one heatmap, a grid of heads, and the same numbers as text.

Every heatmap puts the query tokens (who attends) on the rows and the key tokens
(what is attended to) on the columns, labels both with position and token, fixes
the colour scale to 0…1 so figures can be compared, and carries a colour bar.
"""

import csv
import io
import os
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from minimodel.attention.example import TOKENS, canonical_head_weights

# The committed heatmap of the phase's Definition of Done (lab 01 draws it).
CANONICAL_HEATMAP_PNG = "canonical-heatmap.png"
CANONICAL_HEATMAP_CSV = "canonical-heatmap.csv"
CANONICAL_HEADS = 4


def token_labels(tokens):
    """'0 I', '1 work', …: positions disambiguate repeated tokens such as the two 'work'."""
    return [f"{i} {t}" for i, t in enumerate(tokens)]


def attention_heatmap(weights, tokens, key_tokens=None, *, ax=None, title=None, annotate=True, colorbar=True,
                      colorbar_label="attention weight"):
    """Draw a (T_q, T_k) weight matrix on ``ax`` (a new figure if None); returns the image."""
    weights = np.asarray(weights, dtype=float)
    key_tokens = tokens if key_tokens is None else key_tokens
    if weights.shape != (len(tokens), len(key_tokens)):
        raise ValueError(
            f"weights of shape {weights.shape} do not match {len(tokens)} query and {len(key_tokens)} key tokens"
        )
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.4, 4.6))
        fig.subplots_adjust(left=0.2, right=0.95, bottom=0.22, top=0.92)  # room for the token labels
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(key_tokens)), labels=token_labels(key_tokens), rotation=60, ha="right")
    ax.set_yticks(range(len(tokens)), labels=token_labels(tokens))
    ax.set_xlabel("key: attended to")
    ax.set_ylabel("query: attending")
    if title:
        ax.set_title(title)
    if annotate:
        for (i, j), w in np.ndenumerate(weights):
            ax.text(j, i, f"{w:.2f}", ha="center", va="center", fontsize=7, color="black" if w > 0.6 else "white")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=colorbar_label, shrink=0.85)
    return image


def head_grid(weights, tokens, *, title, highlight=None, annotate_highlight=False):
    """One heatmap per head of an (H, T, T) array, up to 4 a row, with one shared colour bar.

    Axes are shared, so the token labels appear once per row and column. With
    ``annotate_highlight`` the highlighted head also shows its weights as numbers.
    """
    weights = np.asarray(weights, dtype=float)
    H = weights.shape[0]
    cols = min(H, 4)
    rows = -(-H // cols)  # ceiling division
    width, height = 2.4 * cols + 2.0, 2.4 * rows + 1.6  # inches: panels plus fixed margins
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), sharex=True, sharey=True, squeeze=False)
    fig.subplots_adjust(left=1.0 / width, right=1 - 1.0 / width, bottom=0.8 / height, top=1 - 0.6 / height,
                        wspace=0.08, hspace=0.25)
    axes = axes.ravel()
    for h in range(H):
        image = axes[h].imshow(weights[h], cmap="viridis", vmin=0.0, vmax=1.0)
        axes[h].set_title(f"head {h}", fontsize=10)
        if h == highlight:
            axes[h].set_title(f"head {h} (selected)", fontsize=10, fontweight="bold", color="tab:red")
            for spine in axes[h].spines.values():
                spine.set(color="tab:red", linewidth=3)
            if annotate_highlight:
                for (i, j), w in np.ndenumerate(weights[h]):
                    axes[h].text(j, i, f"{w:.2f}"[1:], ha="center", va="center", fontsize=6,
                                 color="black" if w > 0.6 else "white")  # ".27": two digits fit a small cell
    axes[0].set_xticks(range(len(tokens)), labels=token_labels(tokens))
    axes[0].set_yticks(range(len(tokens)), labels=token_labels(tokens))
    for ax in axes:  # shared axes share the ticks, but each panel styles its own labels
        ax.tick_params(labelsize=8)
        plt.setp(ax.get_xticklabels(), rotation=60, ha="right")
    for ax in axes[H:]:
        ax.set_visible(False)
    fig.supxlabel("key: attended to", fontsize=10, y=0.08 / height)  # just below the rotated tick labels
    fig.supylabel("query: attending", fontsize=10)
    fig.colorbar(image, cax=fig.add_axes((1 - 0.8 / width, 0.25, 0.15 / width, 0.5)), label="attention weight")
    fig.suptitle(title)
    return fig


def weights_text(weights, tokens, key_tokens=None, digits=2):
    """The numbers a heatmap shows, as an aligned text table (what strict nbval compares)."""
    weights = np.asarray(weights, dtype=float)
    key_tokens = tokens if key_tokens is None else key_tokens
    rows = token_labels(tokens)
    width = max(digits + 3, *(len(label) for label in token_labels(key_tokens)))
    pad = max(len(label) for label in rows)
    lines = [" " * pad + " " + " ".join(label.rjust(width) for label in token_labels(key_tokens))]
    for label, row in zip(rows, weights, strict=True):
        lines.append(label.ljust(pad) + " " + " ".join(f"{w:.{digits}f}".rjust(width) for w in row))
    return "\n".join(lines)


def weights_csv(weights, tokens):
    """(H, T, T) weights as CSV text: one row per head and query, one column per key, 6 decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["head", "query", *token_labels(tokens)])
    for h, head in enumerate(np.asarray(weights, dtype=float)):
        for label, row in zip(token_labels(tokens), head, strict=True):
            writer.writerow([h, label, *(f"{w:.6f}" for w in row)])
    return buffer.getvalue()


def read_weights_csv(path):
    """The (H, T, T) weights and the token labels stored by ``weights_csv``."""
    with open(path, newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    labels = header[2:]
    heads = sorted({int(row[0]) for row in rows})
    weights = np.array([[row[2:] for row in rows if int(row[0]) == h] for h in heads], dtype=float)
    if weights.shape != (len(heads), len(labels), len(labels)):
        raise ValueError(f"{path}: expected {len(labels)} query rows of {len(labels)} weights per head")
    return weights, labels


def _write_atomically(path, data):
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


def canonical_heatmap_figure(n_heads=CANONICAL_HEADS):
    """The committed figure: every head of an untrained MultiHeadAttention(16, n_heads) on the canonical tokens."""
    weights = canonical_head_weights(n_heads)
    title = f"Canonical sequence, untrained MultiHeadAttention(16, {n_heads}): shape, not semantics"
    return head_grid(weights, TOKENS, title=title), weights


def save_canonical_heatmap(folder):
    """Write CANONICAL_HEATMAP_PNG and CANONICAL_HEATMAP_CSV into ``folder``; returns their paths.

    Each file is written to a temporary name and renamed, so an interrupted run
    never leaves half a file. The PNG carries no version metadata, so re-saving
    an unchanged figure gives the same bytes.
    """
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figure, weights = canonical_heatmap_figure()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(figure)
    png, csv_path = folder / CANONICAL_HEATMAP_PNG, folder / CANONICAL_HEATMAP_CSV
    _write_atomically(png, buffer.getvalue())
    _write_atomically(csv_path, weights_csv(weights, TOKENS).encode("utf-8"))
    return png, csv_path
