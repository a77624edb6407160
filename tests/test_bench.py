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
    assert flops / moved == 5 / 32  # five passes over 4-byte numbers: memory-bound anywhere


def test_command_line_prints_the_table(capsys):
    assert bench.main(["--sizes", "32,64", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "GFLOP/s" in out and "÷ bound" in out and "÷ weights" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["32"], ["64"])]
    assert [row[0] for row in rows] == ["32", "64"] and all(len(row) == 6 for row in rows)
    assert "softmax" in out and "steps at T = 64" in out


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
