"""How the checks word a verdict: one line that says what is wrong, never a traceback.

Kept apart from ``checks.py`` so that the checks themselves read as a list of
cases; everything here turns two arrays (or an exception) into a sentence.
"""

import warnings

import numpy as np

MARK_RIGHT, MARK_WRONG = "✓", "✗"
NOT_ANSWERED = "not answered yet"


def not_answered(name):
    return f"… {name}: {NOT_ANSWERED} (replace the ... above with your answer)"


def as_numbers(name, value):
    """``value`` as a real or boolean array, or a sentence saying why it is not one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.VisibleDeprecationWarning)
            array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        return None, f"{name} cannot be read as an array of numbers ({type(error).__name__}: {error})"
    if array.dtype == bool or array.dtype.kind in "iuf":
        return array, None
    if array.dtype == object:  # Fractions, Python numbers mixed with NumPy ones
        try:
            return array.astype(float), None
        except (TypeError, ValueError):
            pass
    return None, f"{name} is not a number or an array of numbers (got {type(value).__name__} of dtype {array.dtype})"


def index_text(index):
    return str(tuple(int(i) for i in index)) if len(index) != 1 else str(int(index[0]))


def number(value):
    return f"{value:.6g}"


def compare(given, expected, *, atol, rtol=0.0):
    """(problem, largest difference): problem is None when ``given`` matches ``expected``.

    Booleans must be equal (the wrong positions are listed); numbers must satisfy
    |given − expected| ≤ atol + rtol·|expected| everywhere (the worst entry is
    named with both values and its relative error); shapes must be equal.
    """
    if given.shape != expected.shape:
        return f"shape {given.shape} given, {expected.shape} expected", float("inf")
    if expected.dtype == bool:
        wrong = np.argwhere(given.astype(float) != expected.astype(float))
        if not len(wrong):
            return None, 0.0
        shown = ", ".join(index_text(i) for i in wrong[:8]) + (", …" if len(wrong) > 8 else "")
        first = tuple(wrong[0])
        return (f"wrong at {len(wrong)} of {expected.size} positions: {shown} "
                f"(at {index_text(first)} expected {bool(expected[first])}, given {given[first].item()!r})"), 1.0
    given, expected = given.astype(float), expected.astype(float)
    same = given == expected  # also equal infinities
    broken = ~np.isfinite(given) & ~same
    if broken.any():
        first = tuple(np.argwhere(broken)[0])
        where = f" at index {index_text(first)}" if expected.ndim else ""
        return f"{number(given[first])}{where}, expected {number(expected[first])}", float("inf")
    with np.errstate(invalid="ignore"):
        gap = np.where(same, 0.0, np.abs(given - expected))
    excess = gap - (atol + rtol * np.abs(np.where(same, 0.0, expected)))
    largest = float(gap.max(initial=0.0))
    if not excess.size or excess.max() <= 0:
        return None, largest
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
    g, e = given[worst], expected[worst]
    relative = f"{abs(g - e) / abs(e):.1e}" if e != 0 else "infinite (expected 0)"
    where = f"worst entry at index {index_text(worst)}: " if expected.ndim else ""
    return f"{where}expected {number(e)}, given {number(g)}, relative error {relative}", largest


def raised(error):
    text = str(error).splitlines()[0] if str(error) else ""
    return f"raised {type(error).__name__}" + (f": {text}" if text else "")
