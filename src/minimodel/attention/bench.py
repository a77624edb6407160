"""Where naive attention spends its time and memory, measured on this machine.

    python -m minimodel.attention.bench                  # T = 64 … 2048, under a minute
    python -m minimodel.attention.bench --sizes 256,1024 --repeats 9

First the machine's own ceilings (float32 matmul GFLOP/s, the best over several
shapes; streaming copy GB/s on a buffer well above the last-level cache), then
one row per sequence length T for ``MultiHeadAttention(512, 8)`` on a
(T, 512) float32 input: median forward time, achieved GFLOP/s, the time divided
by the time the same FLOPs take at the measured matmul rate ("÷ bound"), and the
peak extra memory of one forward, also divided by the bytes of the (H, T, T) weights.

Times are medians of several runs after a warm-up: this machine is shared and
noisy, so single runs mean little and ratios mean more than milliseconds. The
functions at the end (``Ceilings``, ``*_verdict``) read a set of measurements
against the cost model and say what they show, so no notebook has to state a
number about "this machine" in advance.
"""

import argparse
import math
import os
import pathlib
import re
import statistics
import subprocess
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


# (m, k, n) of the products the matmul ceiling tries: squares of two sizes and the
# projection's own shapes. One product alone is a poor ceiling: on a shared machine
# a 2048² product was once measured at half the rate the projections then reached.
PEAK_SHAPES = ((1024, 1024, 1024), (2048, 2048, 2048), (2048, 512, 512), (2048, 512, 2048))


def matmul_gflops(shapes=PEAK_SHAPES, repeats=5):
    """float32 GFLOP/s of the fastest (m, k) @ (k, n) product over ``shapes``: the compute ceiling.

    A ceiling is the best the machine does, so this takes the fastest run of the
    fastest shape, not a median. The shapes take turns, so a burst of load from
    other users of the machine slows one run of each rather than every run of one.
    """
    rng = np.random.default_rng(0)
    operands = [(rng.normal(size=(m, k)).astype(np.float32), rng.normal(size=(k, n)).astype(np.float32))
                for m, k, n in shapes]
    for a, b in operands:
        a @ b  # warm-up
    best = 0.0
    for _ in range(repeats):
        for a, b in operands:
            flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
            best = max(best, flops / _seconds(lambda a=a, b=b: a @ b))
    return best / 1e9


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


_CACHE_SIZE = re.compile(r"([\d.]+)\s*([KMG])", re.IGNORECASE)
DEFAULT_CACHE = 32 * MIB  # assumed when neither sysfs nor lscpu says


def _cache_bytes(text):
    """Bytes in a size such as '32768K', '32 MiB' or '480 MiB (15 instances)'; None if there is none."""
    match = _CACHE_SIZE.search(text)
    return None if match is None else int(float(match[1]) * 1024 ** (1 + "KMG".index(match[2].upper())))


def _sysfs_last_level_cache():
    """Total bytes of the highest cache level listed in sysfs, over all its instances (None if absent)."""
    sizes = {}  # (level, the CPUs sharing it) -> bytes: one entry per cache instance
    for index in pathlib.Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cache/index[0-9]*"):
        try:
            level = int((index / "level").read_text())
            shared = (index / "shared_cpu_list").read_text().strip()
            size = _cache_bytes((index / "size").read_text())
        except (OSError, ValueError):
            continue
        if size:
            sizes[(level, shared)] = size
    if not sizes:
        return None
    top = max(level for level, _ in sizes)
    return sum(size for (level, _), size in sizes.items() if level == top)


def _lscpu_last_level_cache(text=None):
    """Bytes of the highest 'Lx cache' line of ``lscpu`` (its total over instances), or None."""
    if text is None:
        try:
            text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return None
    levels = {}
    for line in text.splitlines():
        match = re.match(r"\s*L(\d)\w?\s+cache:\s*(.*)", line)
        if match and _cache_bytes(match[2]):
            levels[int(match[1])] = max(levels.get(int(match[1]), 0), _cache_bytes(match[2]))
    return levels[max(levels)] if levels else None


def last_level_cache_bytes():
    """The largest last-level cache size this machine reports (sysfs, lscpu), or DEFAULT_CACHE."""
    found = [size for size in (_sysfs_last_level_cache(), _lscpu_last_level_cache()) if size]
    return max(found, default=DEFAULT_CACHE)


def stream_buffer_mib(cache_bytes=None):
    """MiB of each of the two arrays the copy uses: at least 256, and at least twice the last-level cache."""
    cache_bytes = last_level_cache_bytes() if cache_bytes is None else cache_bytes
    return max(256, math.ceil(2 * cache_bytes / MIB))


def stream_gbps(mib=None, repeats=5):
    """GB/s of copying a large float32 array (bytes read + bytes written): the memory ceiling.

    Each array is ``stream_buffer_mib()`` MiB unless ``mib`` is given, so source and
    destination together are at least four times the last-level cache: every
    copy streams from and to main memory, never from the cache.
    """
    mib = stream_buffer_mib() if mib is None else mib
    src = np.ones(mib * MIB // 4, dtype=np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes / median_seconds(lambda: np.copyto(dst, src), repeats) / 1e9


def exp_gelems(n=2**24, repeats=5):
    """Billions of float32 exponentials per second with ``np.exp`` (it runs on one core)."""
    x = -np.random.default_rng(0).random(n, dtype=np.float32)  # in (-1, 0]: no slow underflow path
    out = np.empty_like(x)
    return n / median_seconds(lambda: np.exp(x, out=out), repeats) / 1e9


# The library's softmax (attention._softmax_inplace) cuts the (H, T, T) scores into
# slabs of about 2**18 numbers (1 MiB of float32, well inside the last-level cache),
# and runs all five passes on one slab before it moves to the next.
SOFTMAX_PASSES = 5  # max (read), subtract (read + write), exp (read + write), sum (read), divide (read + write)
SOFTMAX_SLAB_ACCESSES = 2  # per score, to main memory: the slab is read once and written back once
SOFTMAX_STREAMED_ACCESSES = 8  # per score, if every pass went to main memory (no slabs): 1 + 2 + 2 + 1 + 2


def step_costs(T, d_model=D_MODEL, n_heads=N_HEADS, itemsize=4):
    """FLOPs and bytes moved to or from main memory by each step of one forward, {step: (flops, bytes)}.

    The bytes are those of the library's implementation: each operand read once
    and each result written once. For the softmax that is one read and one write
    per score (SOFTMAX_SLAB_ACCESSES), because the library works slab by slab and
    the five passes over a slab run in cache. A softmax that streamed each pass
    through main memory would move SOFTMAX_STREAMED_ACCESSES per score instead.
    """
    d, H = d_model, n_heads
    scores = H * T * T
    return {
        "projections": (4 * 2 * T * d * d, 4 * itemsize * (2 * T * d + d * d)),  # q, k, v and output
        "QKᵀ": (2 * T * T * d, itemsize * (2 * T * d + scores)),
        "softmax": (SOFTMAX_PASSES * scores, SOFTMAX_SLAB_ACCESSES * itemsize * scores),
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


# --- reading measurements against the cost model ---------------------------------------
# The lab and its solution print these verdicts instead of stating in advance what
# "this machine" does; tests/test_bench.py reads a fast and a slow machine with them.

STEPS = ("projections", "QKᵀ", "softmax", "weights·V")  # the steps that do arithmetic
TIME_TARGET = 1.8  # the project's time target for the ÷ bound column
# attention._softmax_inplace runs on one thread below this many scores, on every core above.
SOFTMAX_THREADED_FROM = 1 << 16


@dataclass(frozen=True)
class Ceilings:
    """A machine's limits: matmul GFLOP/s, copy GB/s, np.exp G/s on one core, and its number of cores."""

    peak: float
    bw: float
    exp: float
    cores: int = 1

    @property
    def ridge(self):
        """FLOP/byte at which the roofline's memory slope, intensity × bw, meets its flat roof, peak."""
        return self.peak / self.bw

    def roof(self, intensity):
        """The best GFLOP/s the roofline allows a step of this arithmetic intensity."""
        return min(self.peak, intensity * self.bw)


def compute_bound(ceilings, T, d_model=D_MODEL, n_heads=N_HEADS):
    """{step: True if its intensity at T lies right of the ridge point (compute-bound), else False}."""
    return {step: flops / moved > ceilings.ridge for step, (flops, moved) in step_costs(T, d_model, n_heads).items()}


def softmax_limits(T, ceilings, d_model=D_MODEL, n_heads=N_HEADS):
    """Seconds the softmax needs for its main-memory bytes at bw, and for its exponentials alone."""
    flops, moved = step_costs(T, d_model, n_heads)["softmax"]
    n_exp = flops // SOFTMAX_PASSES
    threads = ceilings.cores if n_exp >= SOFTMAX_THREADED_FROM else 1
    return moved / (ceilings.bw * 1e9), n_exp / (ceilings.exp * 1e9 * threads)


def bound_floor(T, ceilings, d_model=D_MODEL, n_heads=N_HEADS):
    """Smallest ÷ bound the model allows at T: every matmul exactly at the ceiling, the softmax at its floor."""
    matmul = forward_flops(T, d_model, n_heads) / (ceilings.peak * 1e9)
    return 1 + max(softmax_limits(T, ceilings, d_model, n_heads)) / matmul


def chord(f, T1, T2):
    """Log–log slope of f between T1 and T2."""
    return math.log(f(T2) / f(T1)) / math.log(T2 / T1)


def ridge_verdict(ceilings, T, d_model=D_MODEL, n_heads=N_HEADS):
    """The ridge point, and which steps the roofline calls compute- or memory-bound at T."""
    costs = step_costs(T, d_model, n_heads)
    lines = [f"ridge point {ceilings.ridge:.2f} FLOP/byte ({ceilings.peak:.1f} GFLOP/s ÷ {ceilings.bw:.1f} GB/s)"]
    for step, bound in compute_bound(ceilings, T, d_model, n_heads).items():
        flops, moved = costs[step]
        side = "right of the ridge: compute-bound" if bound else "left of the ridge: memory-bound"
        lines.append(f"  {step:<12} {flops / moved:8.2f} FLOP/byte, {side}")
    return "\n".join(lines)


def growth_verdict(rows, d_model=D_MODEL, n_heads=N_HEADS):
    """How much the forward time grew over the measured range, against a linear, a quadratic and the FLOP model."""
    first, last = rows[0], rows[-1]
    grown, linear = last.ms / first.ms, last.T / first.T
    flops = forward_flops(last.T, d_model, n_heads) / forward_flops(first.T, d_model, n_heads)
    text = (f"time grew {grown:.1f}× from T = {first.T} to {last.T}; a cost linear in T would grow {linear:.0f}×, "
            f"a quadratic one {linear**2:.0f}×, the matmul FLOPs {flops:.1f}×: ")
    if grown < 1:
        return text + ("the time shrank, which no cost model allows: a timing was disturbed by other load, so "
                       "run the timing cell again.")
    if grown >= flops:
        return text + ("faster than the FLOPs, because the softmax adds T² time with almost no FLOPs and the "
                       "attention products run further below the ceiling than the projections.")
    if grown < linear:
        return text + ("slower than the FLOPs and even than a linear cost, so fixed costs per call (Python, "
                       "thread hand-offs, small BLAS calls) dominate the smallest size, or a timing there was "
                       "disturbed by other load.")
    return text + ("slower than the FLOPs, because the smallest size ran further below the ceiling than the "
                   "largest (fixed costs per call weigh most on small products).")


def slope_verdict(rows, d_model=D_MODEL, n_heads=N_HEADS, close=0.1):
    """The log–log slope between the two largest sizes, read against the FLOP model and the range [1, 2]."""
    (a, b), ms = rows[-2:], {r.T: r.ms for r in rows}
    measured = chord(ms.get, a.T, b.T)
    model = chord(lambda T: forward_flops(T, d_model, n_heads), a.T, b.T)
    text = f"slope from T = {a.T} to {b.T}: measured {measured:.2f}, FLOP model {model:.2f}; "
    if not 1 - close <= measured <= 2 + close:
        return text + ("outside [1, 2], which a time aT + bT² cannot give: below 1 a fixed cost per call can "
                       "still dominate (at small T), otherwise a timing was disturbed by other load, so run the "
                       "timing cell again.")
    if measured > model + close:
        return text + ("above the FLOP model: the T² steps take a larger share of the time than of the FLOPs "
                       "(the softmax costs time but almost no FLOPs).")
    if measured < model - close:
        return text + ("below the FLOP model: the larger size ran closer to the matmul ceiling than the smaller "
                       "one, so the time grew less than the FLOPs (or one timing was disturbed: compare the "
                       "other slopes).")
    return text + f"within {close} of the FLOP model: the time grows as the matmul FLOPs do."


def softmax_verdict(seconds, T, ceilings, d_model=D_MODEL, n_heads=N_HEADS):
    """The measured softmax time against its two limits: main-memory traffic and np.exp."""
    memory, exp = softmax_limits(T, ceilings, d_model, n_heads)
    floor, nearer = max(memory, exp), "np.exp" if exp >= memory else "memory"
    text = (f"softmax at T = {T}: measured {1e3 * seconds:.2f} ms; memory alone {1e3 * memory:.2f} ms, "
            f"np.exp alone {1e3 * exp:.2f} ms. The {nearer} limit is the floor, and the measurement is "
            f"{seconds / floor:.1f}× it: ")
    if seconds < 0.8 * floor:
        return text + ("faster than the floor allows, so a ceiling was measured while the machine was busier: "
                       "measure the ceilings again.")
    if seconds > 3 * floor:
        return text + ("far above both limits, so neither explains its time: most of it goes to the other four "
                       "passes, which run in cache, and to handing slabs to the threads.")
    return text + "what lies above the floor is the other four passes, which run in cache but still take time."


def roof_verdict(points, ceilings, slack=1.1):
    """Whether every step, {step: (FLOP/byte, GFLOP/s)}, ran at or below the roof (within ``slack``)."""
    above = [step for step, (intensity, rate) in points.items() if rate > slack * ceilings.roof(intensity)]
    if above:
        return (f"{', '.join(above)} ran more than {slack - 1:.0%} above the roof: the ceilings were measured while "
                f"the machine was busier than during the steps, so measure them again before reading the figure.")
    return f"every step ran at or below the roof (within {slack - 1:.0%}), as a ceiling requires."


def target_verdict(rows, ceilings, target=TIME_TARGET, d_model=D_MODEL, n_heads=N_HEADS):
    """The ÷ bound at the largest size against the time target and against the model's floor."""
    r = rows[-1]
    floor = bound_floor(r.T, ceilings, d_model, n_heads)
    memory, exp = softmax_limits(r.T, ceilings, d_model, n_heads)
    verb = "meets" if r.bound_ratio <= target else "misses"
    text = (f"at T = {r.T} the forward takes {r.bound_ratio:.2f}× its matmul FLOPs at the ceiling, so it {verb} "
            f"the {target}× target; the model's floor there is {floor:.2f}× (every matmul at the ceiling, "
            f"the softmax at its floor). ")
    if floor > target:
        cause = "exponentials" if exp >= memory else "memory traffic"
        return text + (f"The floor itself is above {target}×: no naive implementation can meet the target on this "
                       f"machine, because the softmax's {cause} alone take too long.")
    if verb == "misses":
        return text + (f"The floor is below {target}×, so the target is within reach: what is missing is the "
                       "matmuls' shortfall from the ceiling and the time of the other passes and copies.")
    return text + f"The measurement sits {r.bound_ratio - floor:.2f} above the floor."


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
    machine = Ceilings(matmul_gflops(), stream_gbps(), exp_gelems(), os.cpu_count() or 1)
    print(f"machine: float32 matmul {machine.peak:.1f} GFLOP/s, copy {machine.bw:.1f} GB/s, "
          f"np.exp {machine.exp:.2f} G/s (one core), {machine.cores} cores")
    print(f"MultiHeadAttention({D_MODEL}, {N_HEADS}), float32, median of {args.repeats} runs\n")
    rows = measure(sorted(set(args.sizes)), args.repeats, machine.peak)
    print(format_table(rows))
    T = rows[-1].T
    print(f"\nsteps at T = {T}, each timed alone:")
    print(format_steps(step_seconds(T, repeats=args.repeats), T))
    print("\nread against the cost model:")
    verdicts = [target_verdict(rows, machine)]
    if len(rows) > 1:
        verdicts[:0] = [growth_verdict(rows), slope_verdict(rows)]
    print("\n".join(f"- {v}" for v in verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
