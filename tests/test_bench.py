"""The benchmark's arithmetic and its command line (its timings are reported, never asserted)."""

import pytest

from minimodel.attention import bench


def test_flop_counts_of_the_forward():
    T, d = 1024, 512
    costs = bench.step_costs(T, d, 8)
    matmul_flops = sum(costs[step][0] for step in ("projections", "QKᵀ", "weights·V"))
    assert matmul_flops == bench.forward_flops(T, d) == 8 * T * d * d + 4 * T * T * d


def test_projections_and_attention_cost_the_same_at_t_equal_2d():
    d = 512
    for T, relation in ((2 * d - 64, "more"), (2 * d, "equal"), (2 * d + 64, "less")):
        costs = bench.step_costs(T, d, 8)
        projections, attention = costs["projections"][0], costs["QKᵀ"][0] + costs["weights·V"][0]
        assert {"more": projections > attention, "equal": projections == attention,
                "less": projections < attention}[relation]


def test_arithmetic_intensity_of_the_steps():
    d, H = 512, 8
    costs = bench.step_costs(16384, d, H)
    flops, moved = costs["QKᵀ"]
    assert flops / moved == pytest.approx((d // H) / 2, rel=0.02)  # d_head / 2 once T ≫ d_head
    flops, moved = costs["softmax"]
    assert flops / moved == 5 / 8  # five passes in cache, one read and one write of 4 bytes in memory
    assert bench.SOFTMAX_STREAMED_ACCESSES * 4 == 32  # the unsliced textbook softmax: 5 FLOPs per 32 bytes


def test_last_level_cache_is_read_from_lscpu_and_sizes_the_copy():
    lscpu = "L1d cache:  64 KiB (2 instances)\nL2 cache:   1 MiB (2 instances)\nL3 cache:   480 MiB (15 instances)\n"
    assert bench._lscpu_last_level_cache(lscpu) == 480 * bench.MIB
    assert bench._lscpu_last_level_cache("L2 cache: 1024K\nL3 cache: 32768K\n") == 32 * bench.MIB
    assert bench._lscpu_last_level_cache("Model name: some CPU\n") is None
    assert bench.stream_buffer_mib(480 * bench.MIB) == 960  # each array twice the cache
    assert bench.stream_buffer_mib(32 * bench.MIB) == 256  # never below 256 MiB
    assert bench.last_level_cache_bytes() >= 1


def _rows(ceilings, ratios):
    """Rows whose forward takes ``ratio`` times its matmul FLOPs at the ceiling, for each {T: ratio}."""
    rows = []
    for T, ratio in ratios.items():
        seconds = ratio * bench.forward_flops(T) / (ceilings.peak * 1e9)
        rows.append(bench.Row(T, 1e3 * seconds, bench.forward_flops(T) / seconds / 1e9, ratio, 1.0, 1.0))
    return rows


FAST = bench.Ceilings(peak=2000.0, bw=200.0, exp=4.0, cores=32)  # a large server
SLOW = bench.Ceilings(peak=40.0, bw=8.0, exp=0.1, cores=1)  # an old laptop on one core


def test_verdicts_read_a_fast_and_a_slow_machine():
    fast = _rows(FAST, {64: 4.0, 1024: 1.6, 2048: 1.4})
    slow = _rows(SLOW, {64: 2.0, 1024: 2.2, 2048: 2.9})

    # Time target: the fast machine meets it above a floor of 1.21; the slow one cannot, its floor is 2.04.
    assert bench.bound_floor(2048, FAST) == pytest.approx(1.208, abs=1e-3)
    assert bench.bound_floor(2048, SLOW) == pytest.approx(2.041, abs=1e-3)
    fast_text, slow_text = bench.target_verdict(fast, FAST), bench.target_verdict(slow, SLOW)
    assert "1.40× its matmul FLOPs" in fast_text and "it meets the 1.8× target" in fast_text
    assert "floor there is 1.21×" in fast_text and "0.19 above the floor" in fast_text
    assert "it misses the 1.8× target" in slow_text and "floor there is 2.04×" in slow_text
    assert "no naive implementation can meet" in slow_text and "exponentials" in slow_text
    middle = _rows(FAST, {64: 4.0, 1024: 2.5, 2048: 2.5})  # misses, though the floor would allow it
    assert "misses" in bench.target_verdict(middle, FAST) and "within reach" in bench.target_verdict(middle, FAST)

    # Slope from 1024 to 2048 against the FLOP model's log2(3) = 1.58.
    assert "measured 1.39, FLOP model 1.58; below the FLOP model" in bench.slope_verdict(fast)
    assert "measured 1.98, FLOP model 1.58; above the FLOP model" in bench.slope_verdict(slow)
    flat = _rows(FAST, {1024: 1.5, 2048: 0.7})  # time barely grew: a disturbed timing
    assert "outside [1, 2]" in bench.slope_verdict(flat)
    assert "within 0.1 of the FLOP model" in bench.slope_verdict(_rows(FAST, {1024: 1.5, 2048: 1.5}))

    # Growth from 64 to 2048: the FLOPs grow 90.4×.
    assert "time grew 31.6×" in bench.growth_verdict(fast) and "even than a linear cost" in bench.growth_verdict(fast)
    moderate = bench.growth_verdict(_rows(FAST, {64: 2.0, 2048: 1.4}))  # 63× : between linear and the FLOPs
    assert "time grew 63.2×" in moderate and "slower than the FLOPs, because" in moderate
    assert "time grew 131.0×" in bench.growth_verdict(slow) and "faster than the FLOPs" in bench.growth_verdict(slow)
    assert "the matmul FLOPs 90.4×" in bench.growth_verdict(slow)
    assert "the time shrank" in bench.growth_verdict(_rows(FAST, {64: 200.0, 2048: 1.5}))

    # Softmax: the fast machine waits on memory, the slow one on np.exp.
    fast_softmax = bench.softmax_verdict(2.0e-3, 2048, FAST)
    assert "memory alone 1.34 ms" in fast_softmax and "The memory limit is the floor" in fast_softmax
    slow_softmax = bench.softmax_verdict(0.4, 2048, SLOW)
    assert "np.exp alone 335.54 ms" in slow_softmax and "The np.exp limit is the floor" in slow_softmax
    assert "1.2× it" in slow_softmax and "other four passes" in slow_softmax
    assert "measure the ceilings again" in bench.softmax_verdict(0.1, 2048, SLOW)
    assert "far above both limits" in bench.softmax_verdict(0.4, 2048, FAST)

    # Roofline: a point above the roof means the ceiling was measured low.
    below = {"softmax": (0.625, 3.0), "QKᵀ": (30.0, 35.0)}
    assert "every step ran at or below the roof" in bench.roof_verdict(below, SLOW)
    assert "QKᵀ ran more than 10% above the roof" in bench.roof_verdict({"QKᵀ": (30.0, 50.0)}, SLOW)


def test_the_roofline_classification_follows_the_ridge_not_a_fixed_list():
    assert list(bench.compute_bound(FAST, 2048).values()) == [True, True, False, True]  # ridge 10
    high_ridge = bench.Ceilings(peak=2000.0, bw=50.0, exp=4.0, cores=32)  # ridge 40, above QKᵀ's 30.1
    assert list(bench.compute_bound(high_ridge, 2048).values()) == [True, False, False, False]
    text = bench.ridge_verdict(high_ridge, 2048)
    qk_line = next(line for line in text.splitlines() if "QKᵀ" in line)
    assert text.startswith("ridge point 40.00 FLOP/byte") and "30.12 FLOP/byte, left of the ridge" in qk_line


def test_command_line_prints_the_table(capsys):
    assert bench.main(["--sizes", "32,64", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "GFLOP/s" in out and "÷ bound" in out and "÷ weights" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["32"], ["64"])]
    assert [row[0] for row in rows] == ["32", "64"] and all(len(row) == 6 for row in rows)
    assert "softmax" in out and "steps at T = 64" in out
    assert "read against the cost model" in out and "- slope from T = 32 to 64" in out and "target" in out


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "64,abc"], "comma-separated integers"),
    (["--sizes", "0,64"], "positive integer"),
    (["--repeats", "-3"], "positive integer"),
])
def test_bad_arguments_are_named(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_peak_memory_of_the_forward_is_reported_against_the_weights():
    rows = bench.measure([64], repeats=1, matmul_rate=100.0)
    assert rows[0].T == 64 and rows[0].ms > 0
    assert rows[0].peak_mib == pytest.approx(rows[0].peak_ratio * 8 * 64 * 64 * 4 / bench.MIB)
