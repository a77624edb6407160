"""Where naive attention spends its time and memory, measured on this machine.

    python -m minimodel.attention.bench                  # T = 64 … 2048, under a minute
    python -m minimodel.attention.bench --sizes 256,1024 --repeats 9

First the machine's own ceilings (float32 matmul GFLOP/s, fastest of several
runs; streaming copy GB/s),
then one row per sequence length T for ``MultiHeadAttention(512, 8)`` on a
(T, 512) float32 input: median forward time, achieved GFLOP/s, the time divided
by the time the same FLOPs take at the measured matmul rate ("÷ bound"), and the
peak extra memory of one forward, also divided by the bytes of the (H, T, T) weights.

Times are medians of several runs after a warm-up: this machine is shared and
noisy, so single runs mean little and ratios mean more than milliseconds.
"""

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from minimodel.attention import MultiHeadAttention
from minimodel.attention.attention import _softmax_inplace

D_MODEL, N_HEADS = 512, 8
SIZES = (64, 128, 256, 512, 1024, 2048)
# Under `make test` (conftest.py sets this variable) the performance lab measures
# only small sizes, so CI stays fast; `make notebooks` measures the full range.
QUICK_ENV, QUICK_SIZES = "MINIMODEL_BENCH_QUICK", (64, 128, 256)
MIB = 2**20


def lab_sizes():
    """The sizes the performance lab measures: QUICK_SIZES when QUICK_ENV is set to 1, else SIZES."""
    return QUICK_SIZES if os.environ.get(QUICK_ENV) == "1" else SIZES


def median_seconds(fn, repeats=5):
    """Median wall time of ``fn()`` over ``repeats`` runs, after one untimed warm-up run."""
    fn()
    return statistics.median(_seconds(fn) for _ in range(repeats))


def matmul_gflops(n=2048, repeats=10):
    """float32 GFLOP/s of an (n, n) @ (n, n) product: the compute ceiling NumPy's BLAS reaches.

    A ceiling is the best the machine does, so this takes the fastest run, not
    the median: on a shared machine a noisy median ceiling (we saw 88 to 169
    GFLOP/s) would make every "÷ bound" ratio look better than it is.
    """
    a, b = np.random.default_rng(0).normal(size=(2, n, n)).astype(np.float32)
    a @ b  # warm-up
    fastest = min(_seconds(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / fastest / 1e9


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def stream_gbps(mib=256, repeats=5):
    """GB/s of copying a large float32 array (bytes read + bytes written): the memory ceiling."""
    src = np.ones(mib * MIB // 4, dtype=np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes / median_seconds(lambda: np.copyto(dst, src), repeats) / 1e9


def exp_gelems(n=2**24, repeats=5):
    """Billions of float32 exponentials per second with ``np.exp`` (it runs on one core)."""
    x = -np.random.default_rng(0).random(n, dtype=np.float32)  # in (-1, 0]: no slow underflow path
    out = np.empty_like(x)
    return n / median_seconds(lambda: np.exp(x, out=out), repeats) / 1e9


def step_costs(T, d_model=D_MODEL, n_heads=N_HEADS, itemsize=4):
    """FLOPs and minimum bytes moved by each step of one forward, as {step: (flops, bytes)}.

    Bytes count each operand read once and each result written once. The
    softmax makes five passes over the (H, T, T) scores: max (read), subtract
    (read + write), exp (read + write), sum (read), divide (read + write).
    """
    d, H = d_model, n_heads
    scores = H * T * T
    return {
        "projections": (4 * 2 * T * d * d, 4 * itemsize * (2 * T * d + d * d)),  # q, k, v and output
        "QKᵀ": (2 * T * T * d, itemsize * (2 * T * d + scores)),
        "softmax": (5 * scores, 8 * itemsize * scores),
        "weights·V": (2 * T * T * d, itemsize * (scores + 2 * T * d)),
    }


def forward_flops(T, d_model=D_MODEL, n_heads=N_HEADS):
    """Matmul FLOPs of one forward: 8·T·d² for the projections plus 4·T²·d for attention."""
    return 8 * T * d_model**2 + 4 * T * T * d_model


def _inputs(T, d_model, n_heads, seed=0):
    mha = MultiHeadAttention(d_model, n_heads, seed=seed)
    x = np.random.default_rng(seed).normal(size=(T, d_model)).astype(np.float32)  # (T, d_model)
    return mha, x


def forward_seconds(T, d_model=D_MODEL, n_heads=N_HEADS, repeats=5):
    """Median time of one forward of MultiHeadAttention(d_model, n_heads) on a (T, d_model) float32 input."""
    mha, x = _inputs(T, d_model, n_heads)
    return median_seconds(lambda: mha(x), repeats)


def step_seconds(T, d_model=D_MODEL, n_heads=N_HEADS, repeats=5):
    """Median time of each step of the forward, each run alone on inputs of the right shape."""
    mha, x = _inputs(T, d_model, n_heads)
    w = mha.w_q.astype(np.float32)
    H, d_head = n_heads, d_model // n_heads
    q = np.ascontiguousarray((x @ w).reshape(1, T, H, d_head).transpose(0, 2, 1, 3))  # (1, H, T, d_head)
    k = v = np.ascontiguousarray(x.reshape(1, T, H, d_head).transpose(0, 2, 1, 3))  # (1, H, T, d_head)
    weights = _softmax_inplace(q @ np.swapaxes(k, -1, -2))  # (1, H, T, T)
    return {
        "projections": 4 * median_seconds(lambda: x @ w, repeats),
        "split/merge heads": 4 * median_seconds(lambda: np.ascontiguousarray(q.transpose(0, 2, 1, 3)), repeats),
        "QKᵀ": median_seconds(lambda: q @ np.swapaxes(k, -1, -2), repeats),
        # Softmax of weights that are already a softmax: the same five passes, the same cost.
        "softmax": median_seconds(lambda: _softmax_inplace(weights), repeats),
        "weights·V": median_seconds(lambda: weights @ v, repeats),
    }


def peak_bytes(T, d_model=D_MODEL, n_heads=N_HEADS, mask=None):
    """Peak bytes NumPy allocates during one forward (tracemalloc), and the weights' own bytes."""
    mha, x = _inputs(T, d_model, n_heads)
    mha(x[:2], None if mask is None else mask[:2, :2])  # first-call allocations are not the forward's
    tracemalloc.start()
    try:
        _, weights = mha(x, mask)
        return tracemalloc.get_traced_memory()[1], weights.nbytes
    finally:
        tracemalloc.stop()


@dataclass(frozen=True)
class Row:
    T: int
    ms: float
    gflops: float
    bound_ratio: float  # forward time ÷ the same FLOPs at the matmul ceiling
    peak_mib: float
    peak_ratio: float  # peak extra memory ÷ bytes of the (H, T, T) weights


def measure(sizes=SIZES, repeats=5, matmul_rate=None, d_model=D_MODEL, n_heads=N_HEADS):
    """One Row per sequence length; ``matmul_rate`` in GFLOP/s (measured here if None)."""
    matmul_rate = matmul_gflops() if matmul_rate is None else matmul_rate
    rows = []
    for T in sizes:
        seconds = forward_seconds(T, d_model, n_heads, repeats)
        flops = forward_flops(T, d_model, n_heads)
        peak, weights_bytes = peak_bytes(T, d_model, n_heads)
        rows.append(Row(T, 1e3 * seconds, flops / seconds / 1e9, seconds / (flops / (matmul_rate * 1e9)),
                        peak / MIB, peak / weights_bytes))
    return rows


def format_table(rows):
    lines = [f"{'T':>6} {'ms':>9} {'GFLOP/s':>8} {'÷ bound':>8} {'peak MiB':>9} {'÷ weights':>9}"]
    for r in rows:
        lines.append(f"{r.T:>6} {r.ms:>9.2f} {r.gflops:>8.1f} {r.bound_ratio:>8.2f} {r.peak_mib:>9.1f} "
                     f"{r.peak_ratio:>9.2f}")
    return "\n".join(lines)


def format_steps(seconds, T, d_model=D_MODEL, n_heads=N_HEADS):
    costs = step_costs(T, d_model, n_heads)
    lines = [f"{'step':<18} {'ms':>8} {'share':>6} {'GFLOP/s':>8} {'FLOP/byte':>9}"]
    total = sum(seconds.values())
    for step, s in seconds.items():
        flops, moved = costs.get(step, (0, 0))
        intensity = f"{flops / moved:>9.2f}" if moved else f"{'-':>9}"
        lines.append(f"{step:<18} {1e3 * s:>8.2f} {s / total:>6.0%} {flops / s / 1e9:>8.1f} {intensity}")
    return "\n".join(lines)


def _sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        message = f"--sizes takes comma-separated integers such as 64,256,1024, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if any(T < 1 for T in sizes):
        raise argparse.ArgumentTypeError(f"every size must be a positive integer, got {text!r}")
    return sizes


def _positive(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--repeats takes a positive integer, got {text!r}")
    return int(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minimodel.attention.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=SIZES, help="sequence lengths T (default: 64,...,2048)")
    parser.add_argument("--repeats", type=_positive, default=5, help="timed runs per measurement (median)")
    args = parser.parse_args(argv)
    rate = matmul_gflops()
    print(f"machine: float32 matmul {rate:.1f} GFLOP/s, copy {stream_gbps():.1f} GB/s, "
          f"np.exp {exp_gelems():.2f} G/s (one core)")
    print(f"MultiHeadAttention({D_MODEL}, {N_HEADS}), float32, median of {args.repeats} runs\n")
    print(format_table(measure(args.sizes, args.repeats, rate)))
    T = max(args.sizes)
    print(f"\nsteps at T = {T}, each timed alone:")
    print(format_steps(step_seconds(T, repeats=args.repeats), T))
    return 0


if __name__ == "__main__":
    sys.exit(main())
