"""Phase 15's Definition of Done as a checklist: ``minimodel check 15``.

Each check returns (holds, reason). Nothing is taken on trust: the checks call
the library, re-derive the 2-token example with ``math``, run the causal
perturbation test, compare the committed heatmap with the code, read the lab
notebooks and their pairs, execute the learner's copies of the labs in
``work/`` (``minimodel.labwork``), and read the quiz attempts in the progress file.
"""

import math
import pathlib

import numpy as np

from minimodel import labwork, quiz

LABS = labwork.LABS
# lab/00's example: two tokens, d_k = 4 so that √d_k = 2 is exact.
HAND_Q = ((1, 1, 1, -1), (2, 2, 1, 0))
HAND_K = ((1, 1, 0, 0), (0, 0, 1, 1))
HAND_V = ((3, 1), (1, 3))


def check_api(root):
    from minimodel.attention import MultiHeadAttention, scaled_dot_product_attention

    x = np.random.default_rng(0).normal(size=(5, 8))
    out, weights = scaled_dot_product_attention(x, x, x)
    layer_out, layer_weights = MultiHeadAttention(8, 2)(x)
    shapes = (out.shape, weights.shape, layer_out.shape, layer_weights.shape)
    assert shapes == ((5, 8), (5, 5), (5, 8), (2, 5, 5)), f"unexpected shapes {shapes}"
    return "scaled_dot_product_attention and MultiHeadAttention import and return the documented shapes"


def hand_attention():
    """softmax(Q Kᵀ / 2) V of lab/00, one row at a time with ``math``: the paper derivation."""
    rows = []
    for q in HAND_Q:
        scores = [sum(a * b for a, b in zip(q, k, strict=True)) / 2 for k in HAND_K]
        exps = [math.exp(s - max(scores)) for s in scores]
        weights = [e / sum(exps) for e in exps]
        rows.append([sum(w * v[j] for w, v in zip(weights, HAND_V, strict=True)) for j in range(len(HAND_V[0]))])
    return rows


def check_hand_example(root):
    from minimodel.attention import scaled_dot_product_attention

    out, _ = scaled_dot_product_attention(*(np.array(m, dtype=float) for m in (HAND_Q, HAND_K, HAND_V)))
    error = float(np.max(np.abs(out - np.array(hand_attention()))))
    assert error <= 1e-5, f"the library differs from the hand derivation by {error:.2e} (> 1e-5)"
    return f"the 2-token example of lab/00 matches the hand derivation to {error:.1e} (≤ 1e-5)"


def check_causal_mask(root):
    from minimodel.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
    from minimodel.attention.checks import check_causal

    layer = MultiHeadAttention(8, 2)
    cases = (("scaled_dot_product_attention", lambda x: scaled_dot_product_attention(x, x, x, causal_mask(len(x))), 4,
              None), ("MultiHeadAttention", lambda x: layer(x, causal_mask(x.shape[-2])), 8, 3))
    for name, fn, d, batch in cases:
        result = check_causal(fn, d=d, batch=batch)
        assert result.passed, f"{name}: {result.reason}"
    return ("perturbing the future leaves the past bit-for-bit unchanged and every position sees itself "
            "(the function, and the layer on a batch of 3)")


def check_heatmap(root):
    from minimodel.attention.example import canonical_head_weights
    from minimodel.attention.plot import CANONICAL_HEADS, CANONICAL_HEATMAP_CSV, CANONICAL_HEATMAP_PNG, read_weights_csv

    folder = root / "lab" / "figures"
    missing = [name for name in (CANONICAL_HEATMAP_PNG, CANONICAL_HEATMAP_CSV) if not (folder / name).is_file()]
    assert not missing, f"missing in lab/figures: {', '.join(missing)} (make heatmap writes them)"
    committed, _ = read_weights_csv(folder / CANONICAL_HEATMAP_CSV)
    now = canonical_head_weights(CANONICAL_HEADS)
    assert committed.shape == now.shape and np.allclose(committed, now, atol=1e-6), (
        "the committed weights no longer match the code (make heatmap, then commit lab/figures)")
    return f"lab/figures/{CANONICAL_HEATMAP_PNG} and its weights match the code"


def check_labs(root):
    problems = [p for name in LABS for p in notebook_problems(root / "lab" / f"{name}.md")]
    assert not problems, "; ".join(problems)
    return f"the {len(LABS)} lab notebooks are executed, error-free and in sync with their .md"


def notebook_problems(md):
    """What is wrong with a paired notebook: missing, out of sync with its .md, not executed, or failed."""
    import jupytext
    import nbformat

    ipynb = md.with_suffix(".ipynb")
    if not md.is_file() or not ipynb.is_file():
        return [f"{md.parent.name}/{md.stem}: .md or .ipynb missing"]
    notebook = nbformat.read(ipynb, as_version=4)
    problems = []
    if jupytext.writes(notebook, "md:myst").strip() != md.read_text(encoding="utf-8").strip():
        problems.append(f"{md.parent.name}/{md.name} and its .ipynb differ (make notebooks NB=...)")
    code = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    if any(cell.execution_count is None for cell in code):
        problems.append(f"{md.parent.name}/{ipynb.name} has cells that were never run")
    if any(output.output_type == "error" for cell in code for output in cell.outputs):
        problems.append(f"{md.parent.name}/{ipynb.name} stores an error")
    return problems


def check_lab_work(root):
    """The learner's copies in work/, executed and graded: one line per lab."""
    grades = labwork.grade_workspace(root)
    lines = "\n".join(grade.line() for grade in grades)
    if not all(grade.done for grade in grades):
        raise AssertionError(lines)
    return lines


def check_quiz(root, phase=15):
    """A valid recorded pass of the phase quiz. Invalid records are skipped and named, never trusted,
    and never able to hide a valid pass."""
    bank = quiz.load_bank(phase)
    path = quiz.progress_path()
    attempts, skipped = quiz.check_attempts(path, pass_fraction=bank.pass_fraction)
    attempts = [a for a in attempts if a["phase"] == phase]
    note = ""
    if skipped:
        lines = "; ".join(f"line {number}: {problem}" for number, problem in skipped)
        note = f" ({len(skipped)} invalid record{'s' if len(skipped) > 1 else ''} of {path} skipped: {lines})"
    passes = [a for a in attempts if a["passed"]]
    if passes:
        best = max(passes, key=lambda a: a["score"])
        return f"passed on {best.get('finished', '?')} with {best['score']:.0%}{note}"
    best = max((a["score"] for a in attempts), default=None)
    tried = f"best so far {best:.0%}" if best is not None else "no attempt recorded yet"
    raise AssertionError(f"{tried}; run: minimodel quiz {phase} (pass at {bank.pass_fraction:.0%}){note}")


CHECKS = (
    ("attention.py has the single-head function and the MultiHeadAttention class", check_api),
    ("hand-derived 2-token example matches NumPy to 1e-5", check_hand_example),
    ("causal mask: perturbing the future does not change the past", check_causal_mask),
    ("heatmap of the canonical sequence committed and current", check_heatmap),
    ("every lab notebook executed and in sync with its pair", check_labs),
    ("every lab exercise answered correctly (your copies in work/)", check_lab_work),
    ("Quiz 15 passed at ≥ 80 %", check_quiz),
)


def checklist(root=None):
    """[(item, holds, reason)] for every item of the Definition of Done."""
    root = pathlib.Path(root) if root else quiz.repository_root()
    results = []
    for item, check in CHECKS:
        try:
            results.append((item, True, check(root)))
        except Exception as error:  # a failing check is a ✗ with its reason, never a traceback
            results.append((item, False, str(error) or type(error).__name__))
    return results


def report(results, out):
    out.write("Phase 15 — Definition of Done\n")
    for item, holds, reason in results:
        out.write(f"{'✓' if holds else '✗'} {item}\n")
        out.write("".join(f"    {line}\n" for line in reason.splitlines() or [""]))
    held = sum(holds for _, holds, _ in results)
    out.write(f"{held} of {len(results)} hold{'' if held == len(results) else '; the phase is not done yet'}.\n")
    return 0 if held == len(results) else 1
