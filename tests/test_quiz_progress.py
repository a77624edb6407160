"""The progress file: locked appends, records checked by type, and never losing a finished attempt.

Most tests here are scripted terminal runs: ``python -m minimodel`` in a subprocess with its input piped in,
so what they check is what a learner sees (the output, the exit status, no traceback).
"""

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from minimodel import done, quiz
from minimodel.quiz import draw, load_bank, model_answer
from minimodel.quiz.terminal import NOT_RECORDED

BANK = load_bank(15)
SEED = 7


@pytest.fixture
def progress(tmp_path, monkeypatch):
    path = tmp_path / ".progress" / "quiz.jsonl"
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(path))
    return path


def correct_input(seed=SEED):
    return "".join(model_answer(q, order) + "\n" for q, order in draw(BANK, seed))


def minimodel(*args, stdin="", progress_path=None, **kwargs):
    env = {**os.environ}
    if progress_path is not None:
        env[quiz.PROGRESS_ENV] = str(progress_path)
    return subprocess.run([sys.executable, "-m", "minimodel", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, **kwargs)


def record(score=0.9, passed=True, **extra):
    return {"phase": 15, "score": score, "passed": passed, **extra}


# --- appending ----------------------------------------------------------------------------


def test_attempts_are_appended_and_read_back(progress):
    quiz.record_attempt(record(0.5, False))
    quiz.record_attempt(record(0.9, True))
    assert [a["score"] for a in quiz.read_attempts(pass_fraction=0.8)] == [0.5, 0.9]
    assert sorted(p.name for p in progress.parent.iterdir()) == ["quiz.jsonl"]  # no temporary file


def test_appending_keeps_the_files_mode_and_writes_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere" / "attempts.jsonl"
    target.parent.mkdir()
    target.write_text(json.dumps(record(0.5, False)) + "\n")
    target.chmod(0o600)
    link = tmp_path / "quiz.jsonl"
    link.symlink_to(target)
    quiz.record_attempt(record(), link)
    assert link.is_symlink() and link.resolve() == target  # still a link, not replaced by a file
    assert len(target.read_text().splitlines()) == 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_file_cut_off_mid_line_gets_its_newline_back_before_the_next_record(progress):
    progress.parent.mkdir(parents=True)
    progress.write_text(json.dumps(record(0.5, False)) + '\n{"phase": 15, "sco')  # a writer killed mid-line
    quiz.record_attempt(record())
    lines = progress.read_text().split("\n")
    assert lines[1] == '{"phase": 15, "sco' and json.loads(lines[2])["score"] == 0.9
    warnings = []
    assert [a["score"] for a in quiz.read_attempts(warn=warnings.append)] == [0.5, 0.9]
    assert len(warnings) == 1 and "line 2 " in warnings[0]


WRITER = textwrap.dedent("""
    import sys
    from minimodel.quiz import record_attempt
    for i in range(100):
        record_attempt({"phase": 15, "score": 0.5, "passed": False, "writer": sys.argv[1], "i": i}, sys.argv[2])
""")


def test_two_processes_appending_100_records_each_leave_200_lines(tmp_path):
    path = tmp_path / "quiz.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, name, str(path)]) for name in ("a", "b")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    lines = path.read_text().split("\n")
    assert lines[-1] == "" and len(lines[:-1]) == 200
    records = [json.loads(line) for line in lines[:-1]]  # every line whole
    for name in ("a", "b"):
        assert [r["i"] for r in records if r["writer"] == name] == list(range(100))


# --- reading: every record checked by type ------------------------------------------------


BAD_RECORDS = [
    ("[1, 2]", "not a JSON object"),
    ('{"phase": 15, "passed": true}', "no score"),
    ('{"phase": "15", "score": 0.9, "passed": true}', "phase is '15'"),
    ('{"phase": 15, "score": "0.9", "passed": true}', "score is '0.9'"),
    ('{"phase": 15, "score": 1.5, "passed": true}', "score is 1.5"),
    ('{"phase": 15, "score": -0.1, "passed": false}', "score is -0.1"),
    ('{"phase": 15, "score": NaN, "passed": true}', "score is nan"),
    ('{"phase": 15, "score": Infinity, "passed": true}', "score is inf"),
    ('{"phase": 15, "score": true, "passed": true}', "score is True"),
    ('{"phase": 15, "score": 0.9, "passed": "yes"}', "passed is 'yes'"),
    ('{"phase": 15, "score": 0.5, "passed": true}', "below the pass mark 0.8"),
    ('{"phase": 15, "score": 0.9, "passed": false}', "at or above the pass mark"),
    ('{"phase": 15, "score": 0.9, "passed": true, "correct": 9, "total": 20}', "score 0.9 is not 9/20"),
    ('{"phase": 15, "score": 0.8, "passed": true, "correct": 16, "total": 0}', "not a count"),
    ('{"phase": 15, "sco', "not JSON"),
]


@pytest.mark.parametrize("line, problem", BAD_RECORDS)
def test_a_bad_record_is_skipped_with_its_line_number_and_the_reason(progress, line, problem):
    progress.parent.mkdir(parents=True)
    good = json.dumps(record(0.85, True, correct=17, total=20))
    progress.write_text(f"{good}\n\n{line}\n{good}\n")
    warnings = []
    attempts = quiz.read_attempts(warn=warnings.append, pass_fraction=0.8)
    assert len(attempts) == 2 and len(warnings) == 1
    assert f"line 3 of {progress}" in warnings[0] and problem in warnings[0], warnings[0]
    assert line in progress.read_text()  # skipped, never deleted


def test_line_numbers_count_newlines_only(progress):
    """U+2028 and U+0085 are line breaks to str.splitlines, but not to an editor or to json.dumps."""
    progress.parent.mkdir(parents=True)
    odd = json.dumps(record(0.85, True, note="a\u2028b\x85c"), ensure_ascii=False)
    progress.write_text(f"{odd}\n{odd}\nnot json\n", encoding="utf-8")
    warnings = []
    assert len(quiz.read_attempts(warn=warnings.append, pass_fraction=0.8)) == 2
    assert len(warnings) == 1 and "line 3 of" in warnings[0]


def test_a_bad_record_never_hides_a_valid_pass_nor_crashes_the_check(progress):
    progress.parent.mkdir(parents=True)
    lines = [json.dumps(record(0.6, False)), '{"phase": 15, "score": "high", "passed": true}',
             '{"phase": 15, "score": 2.0, "passed": true}', json.dumps(record(0.85, True, finished="2026-12-01"))]
    progress.write_text("\n".join(lines) + "\n")
    reason = done.check_quiz(None)  # returns when the item holds, raises AssertionError when it does not
    assert "passed on 2026-12-01 with 85%" in reason and "2 invalid records of" in reason
    assert "line 2: score is 'high'" in reason and "line 3: score is 2.0" in reason


def test_a_failed_attempt_marked_passed_does_not_count_as_a_pass(progress):
    progress.parent.mkdir(parents=True)
    progress.write_text(json.dumps(record(0.5, True)) + "\n")
    with pytest.raises(AssertionError) as failed:
        done.check_quiz(None)
    assert "no attempt recorded yet" in str(failed.value) and "below the pass mark" in str(failed.value)


def test_scripted_check_reports_the_bad_line_and_still_finds_the_pass(tmp_path):
    path = tmp_path / "quiz.jsonl"
    path.write_text('{"phase": 15, "score": 0.9, "passed": "yes"}\n' + json.dumps(record(0.9, True)) + "\n")
    checked = minimodel("check", "15", progress_path=path)
    print(checked.stdout)
    assert "✓ Quiz 15 passed at ≥ 80 %" in checked.stdout and "line 1: passed is 'yes'" in checked.stdout
    assert "Traceback" not in checked.stderr
    # A fresh tree has no lab work in work/ yet: that item, and only that one, keeps the phase open.
    failing = [line for line in checked.stdout.splitlines() if line.startswith("✗")]
    assert failing == ["✗ every lab exercise answered correctly (your copies in work/)"], failing
    assert checked.returncode == 1


def test_a_folder_in_place_of_the_progress_file_is_a_clear_check_failure(progress):
    progress.mkdir(parents=True)
    with pytest.raises(ValueError, match="is a folder, not a file of attempts: move it aside"):
        done.check_quiz(None)  # the checklist shows this message as the item's ✗, never a traceback


# --- never lose a finished attempt ----------------------------------------------------------


def assert_attempt_kept(run, path, reason):
    """A finished attempt whose recording failed: score shown first, no traceback, status 3, the record printed."""
    print(run.stdout[run.stdout.index("Score:"):])
    assert run.returncode == NOT_RECORDED == 3, run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    out = run.stdout
    flat = " ".join(line.strip() for line in out.splitlines())  # the message is wrapped to the terminal's width
    assert out.index("Score: 20/20 (100%): passed.") < out.index("Could not record the attempt in")
    assert f"Could not record the attempt in {path}" in flat and reason in flat
    assert "MINIMODEL_PROGRESS" in flat
    command = next(line.strip() for line in out.splitlines() if line.startswith("    printf '%s\\n' "))
    saved = json.loads(command.split("'")[3])  # printf '%s\n' '<record>' >> path
    assert saved["score"] == 1.0 and saved["passed"] is True and saved["seed"] == SEED
    return command


def test_scripted_run_when_the_progress_folder_is_a_file(tmp_path, monkeypatch):
    blocker = tmp_path / ".progress"
    blocker.write_text("I am a file")
    path = blocker / "quiz.jsonl"
    run = minimodel("quiz", "15", "--seed", str(SEED), stdin=correct_input(), progress_path=path)
    command = assert_attempt_kept(run, path, f"{blocker} is a file, but it has to be a folder")
    assert f"mv {blocker} {blocker}.bak" in " ".join(run.stdout.split())
    blocker.unlink()  # the learner follows the advice, then pastes the printed command
    blocker.mkdir()
    subprocess.run(command, shell=True, check=True)
    (kept,) = quiz.read_attempts(path, pass_fraction=0.8)
    assert kept["score"] == 1.0 and kept["passed"] is True
    monkeypatch.setenv(quiz.PROGRESS_ENV, str(path))
    assert done.check_quiz(None).startswith("passed on ")


def test_scripted_run_when_a_folder_stands_where_the_file_should_be(tmp_path):
    path = tmp_path / ".progress" / "quiz.jsonl"
    path.mkdir(parents=True)
    run = minimodel("quiz", "15", "--seed", str(SEED), stdin=correct_input(), progress_path=path, cwd=tmp_path)
    assert_attempt_kept(run, path, f"{path} is a folder, where the progress file should be")


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write in: mode 555, and for root (who ignores modes) the immutable attribute."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: no folder is read-only to root")
    yield folder
    if immutable:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


def test_scripted_run_in_a_read_only_folder(read_only_folder):
    path = read_only_folder / ".progress" / "quiz.jsonl"
    run = minimodel("quiz", "15", "--seed", str(SEED), stdin=correct_input(), progress_path=path)
    assert_attempt_kept(run, path, f"you are not allowed to write to {read_only_folder}")
    assert f"chmod u+w {read_only_folder}" in " ".join(run.stdout.split())


def test_scripted_run_in_spanish_when_recording_fails(tmp_path):
    blocker = tmp_path / ".progress"
    blocker.write_text("")
    run = minimodel("quiz", "15", "--seed", str(SEED), "--lang", "es",
                    stdin="".join(model_answer(q, o, "es") + "\n" for q, o in draw(BANK, SEED)),
                    progress_path=blocker / "quiz.jsonl")
    assert run.returncode == 3 and "Traceback" not in run.stderr
    assert "Resultado: 20/20 (100\u00a0%): aprobado." in run.stdout
    flat = " ".join(run.stdout.split())
    assert "No se ha podido guardar el intento" in flat and "es un archivo" in flat


def test_scripted_run_asks_ambiguous_thousands_again(tmp_path):
    seed = next(s for s in range(10_000) if "mha-parameter-count-with-biases" in {q.id for q, _ in draw(BANK, s)})
    lines = []
    for q, order in draw(BANK, seed):
        if q.id == "mha-parameter-count-with-biases":
            lines.append("263,168")
        lines.append(model_answer(q, order))
    path = tmp_path / "quiz.jsonl"
    run = minimodel("quiz", "15", "--seed", str(seed), stdin="\n".join(lines) + "\n", progress_path=path)
    asked = run.stdout[run.stdout.index("263,168") - 120:]
    print(asked[: asked.index("✓") + 8])
    assert run.returncode == 0, run.stdout[-500:]
    assert '"263,168" could mean 263168 or 263.168' in run.stdout
    assert json.loads(path.read_text())["score"] == 1.0  # asked again, never counted wrong


def test_a_full_disk_is_explained_too(progress, monkeypatch):
    import errno

    quiz.record_attempt(record(0.5, False))
    before = progress.read_bytes()

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(quiz.progress.os, "write", full)
    with pytest.raises(quiz.RecordError) as error:
        quiz.record_attempt(record())
    assert progress.read_bytes() == before  # nothing half-written
    message = error.value.explain(record(), "en")
    assert f"Could not record the attempt in {progress}: No space left on device." in message
    assert "No se ha podido guardar" in error.value.explain(record(), "es")
