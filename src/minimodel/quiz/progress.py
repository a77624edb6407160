"""The progress file: one JSON line per finished attempt, appended under a lock, read back with checks.

``.progress/quiz.jsonl`` in the repository (or ``$MINIMODEL_PROGRESS``). Writers append: the file is
opened in append mode (through a symlink, if it is one, keeping its mode), locked with ``fcntl.flock``
so that two writers never interleave, and each record is one ``write`` of one line. Readers check every
record by type and skip a bad one with its line number; they never stop at it.
"""

import contextlib
import datetime
import json
import math
import os
import pathlib
import shlex
from dataclasses import dataclass

from minimodel.quiz.answers import passes, score

try:
    import fcntl
except ImportError:  # not on POSIX: appends are still single writes, only unlocked
    fcntl = None

PROGRESS_ENV = "MINIMODEL_PROGRESS"  # a path that replaces the default progress file (tests use it)


def repository_root():
    """The checkout this package is installed from (editable install), else the working directory."""
    root = pathlib.Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "minimodel").is_dir() else pathlib.Path.cwd()


def progress_path():
    """Where attempts are recorded: $MINIMODEL_PROGRESS, else .progress/quiz.jsonl in the repository."""
    override = os.environ.get(PROGRESS_ENV)
    return pathlib.Path(override) if override else repository_root() / ".progress" / "quiz.jsonl"


# --- writing ------------------------------------------------------------------------------

REASONS = {
    "en": {
        "file": ("{culprit} is a file, but it has to be a folder to hold {path}.",
                 "rename it (mv {q_culprit} {q_culprit}.bak)"),
        "folder": ("{culprit} is a folder, where the progress file should be.",
                   "move it aside (mv {q_culprit} {q_culprit}.bak)"),
        "permission": ("you are not allowed to write to {culprit}.", "make it writable (chmod u+w {q_culprit})"),
        "other": ("{detail}.", "free some space or fix the folder"),
        "template": "Could not record the attempt in {path}: {why}\nTo fix it, {fix}, or point {env} at a "
                    "file you can write. Then keep your attempt by adding its record:\n\n    {command}",
    },
    "es": {
        "file": ("{culprit} es un archivo, pero tiene que ser una carpeta para contener {path}.",
                 "cámbiale el nombre (mv {q_culprit} {q_culprit}.bak)"),
        "folder": ("{culprit} es una carpeta, y ahí debería estar el archivo de progreso.",
                   "apártala (mv {q_culprit} {q_culprit}.bak)"),
        "permission": ("no tienes permiso para escribir en {culprit}.",
                       "dale permiso de escritura (chmod u+w {q_culprit})"),
        "other": ("{detail}.", "libera espacio o repara la carpeta"),
        "template": "No se ha podido guardar el intento en {path}: {why}\nPara arreglarlo, {fix}, o haz que "
                    "{env} apunte a un archivo en el que puedas escribir. Después conserva tu intento "
                    "añadiendo su registro:\n\n    {command}",
    },
}


class RecordError(OSError):
    """The progress file could not be written: where, why, and how to fix it (``explain``)."""

    def __init__(self, path, reason, culprit, detail=""):
        super().__init__(f"could not record the attempt in {path}: {reason} ({culprit}) {detail}".strip())
        self.path, self.reason, self.culprit, self.detail = pathlib.Path(path), reason, pathlib.Path(culprit), detail

    def explain(self, record, lang="en"):
        """The message for the learner: where, why, how to fix, and the command that adds ``record``."""
        text = REASONS[lang]
        why, fix = (part.format(culprit=self.culprit, q_culprit=shlex.quote(str(self.culprit)), path=self.path,
                                detail=self.detail) for part in text[self.reason])
        command = f"printf '%s\\n' {shlex.quote(record_line(record).rstrip())} >> {shlex.quote(str(self.path))}"
        return text["template"].format(path=self.path, why=why, fix=fix, env=PROGRESS_ENV, command=command)


def recording_error(path, error):
    """The RecordError that explains ``error`` (raised while creating or opening ``path``)."""
    if isinstance(error, IsADirectoryError):
        return RecordError(path, "folder", path)
    if isinstance(error, NotADirectoryError | FileExistsError):
        blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        return RecordError(path, "file", blocking)
    if isinstance(error, PermissionError):
        culprit = path if path.exists() else next((p for p in path.parents if p.exists()), path.parent)
        return RecordError(path, "permission", culprit)
    return RecordError(path, "other", path, error.strerror or str(error))


def record_line(record):
    return json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"


@contextlib.contextmanager
def _locked(fd):
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


def record_attempt(record, path=None):
    """Append ``record`` as one JSON line to the progress file and return its path.

    The file is locked while the line is written, so concurrent writers never lose or mix a record;
    a file that lost its last newline gets it back first. A symlink is written through and the mode
    is kept, since nothing is replaced. Raises RecordError, which says where, why and how to fix.
    """
    path = pathlib.Path(path or progress_path())
    line = record_line(record).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as error:
        raise recording_error(path, error) from error
    try:
        with _locked(fd):
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # an earlier writer was cut off mid-line: keep its part on a line of its own
            os.write(fd, line)
            os.fsync(fd)
    except OSError as error:
        raise RecordError(path, "other", path, error.strerror or str(error)) from error
    finally:
        os.close(fd)
    return path


def attempt_record(bank, result, *, via, lang, seed, asked=(), now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    return {"phase": bank.phase, "finished": now.isoformat(timespec="seconds"), "via": via, "lang": lang,
            "seed": seed, "asked": list(asked), "correct": result.correct, "total": result.total,
            "score": round(result.fraction, 4), "passed": result.passed, "missed": list(result.missed)}


@dataclass(frozen=True)
class Finished:
    """A scored attempt: its result, its record, and where it was written (or why it was not)."""

    result: object
    record: dict
    path: pathlib.Path | None
    error: RecordError | None


def finish_attempt(bank, questions, answers, *, via, lang, seed, show=None, progress=None):
    """Score an attempt, ``show`` the result (before anything is written), then record it.

    The one way both the terminal and the notebook end a quiz, so they count and record alike. A
    recording failure does not raise: it comes back in ``Finished.error`` with the record to keep.
    """
    questions = list(questions)
    result = score(questions, answers, bank.pass_fraction)
    if show is not None:
        show(result)
    record = attempt_record(bank, result, via=via, lang=lang, seed=seed, asked=[q.id for q in questions])
    try:
        return Finished(result, record, record_attempt(record, progress), None)
    except RecordError as error:
        return Finished(result, record, None, error)


# --- reading ------------------------------------------------------------------------------


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def record_problem(record, pass_fraction=None):
    """Why ``record`` is not a valid attempt (a short phrase), or None when it is.

    Checked by type: an integer phase, a finite score in [0, 1], a boolean ``passed`` that agrees with
    the score (and with ``correct``/``total`` when present) at ``pass_fraction``.
    """
    if not isinstance(record, dict):
        return "not a JSON object"
    missing = sorted({"phase", "score", "passed"} - set(record))
    if missing:
        return f"no {', '.join(missing)}"
    phase, score_, passed = record["phase"], record["score"], record["passed"]
    if not isinstance(phase, int) or isinstance(phase, bool):
        return f"phase is {phase!r}, not an integer"
    if not _is_number(score_) or not math.isfinite(score_) or not 0 <= score_ <= 1:
        return f"score is {score_!r}, not a number from 0 to 1"
    if not isinstance(passed, bool):
        return f"passed is {passed!r}, not true or false"
    correct, total = record.get("correct"), record.get("total")
    counted = correct is not None or total is not None
    if counted:
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in (correct, total)) \
                or not 0 <= correct <= total or total == 0:
            return f"correct/total is {correct!r}/{total!r}, not a count out of a positive total"
        if abs(correct / total - score_) > 5e-5:
            return f"score {score_} is not {correct}/{total}"
    if pass_fraction is not None:
        reached = passes(correct, total, pass_fraction) if counted else score_ >= pass_fraction - 1e-9
        if passed != reached:
            return (f"passed is {json.dumps(passed)}, but a score of {score_} is "
                    f"{'at or above' if reached else 'below'} the pass mark {pass_fraction:g}")
    return None


def read_attempts(path=None, warn=None, pass_fraction=None):
    """Every valid attempt in the progress file ([] if there is none).

    Lines are split on "\\n" only, so the line numbers are the ones an editor shows; each invalid line
    is reported through ``warn`` (default: a warning on stderr) with its number, and skipped.
    """
    import sys

    path = pathlib.Path(path or progress_path())
    warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
    attempts, skipped = check_attempts(path, pass_fraction)
    for number, problem in skipped:
        warn(f"line {number} of {path} is not a valid attempt ({problem}); it is skipped and kept in the file")
    return attempts


def check_attempts(path=None, pass_fraction=None):
    """(valid attempts, [(line number, problem) of the invalid lines]) of the progress file."""
    path = pathlib.Path(path or progress_path())
    if not path.exists():
        return [], []
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file of attempts: move it aside (mv {shlex.quote(str(path))} "
                         f"{shlex.quote(str(path))}.bak)")
    attempts, skipped = [], []
    for number, line in enumerate(path.read_bytes().decode("utf-8", errors="replace").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problem = "not JSON"
        else:
            problem = record_problem(record, pass_fraction)
        if problem:
            skipped.append((number, problem))
        else:
            attempts.append(record)
    return attempts, skipped
