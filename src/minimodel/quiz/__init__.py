"""The phase quizzes: question banks, answers and scoring, the progress file.

    from minimodel.quiz import load_bank, draw, parse_answer, finish_attempt

- ``bank.py``      loading and validating a bank (``phase15.toml``), drawing an attempt by seed
- ``answers.py``   reading typed answers, writing numbers in each language, scoring
- ``progress.py``  the progress file: locked appends, records checked by type when read
- ``terminal.py``  ``minimodel quiz 15``; ``notebook.py`` the widget form of ``quiz/15-attention.md``

The terminal and the notebook both read answers with ``parse_answer`` and end with
``finish_attempt``, which shows the score before it writes anything.
"""

from minimodel.quiz.answers import (
    AmbiguousNumber,
    InvalidAnswer,
    Result,
    correct_answer_text,
    decimals_for,
    expected_form,
    format_number,
    format_percent,
    is_correct,
    model_answer,
    parse_answer,
    parse_number,
    passes,
    score,
)
from minimodel.quiz.bank import (
    DRAWN,
    KINDS,
    LANGUAGES,
    LETTERS,
    Bank,
    BankError,
    Question,
    display_order,
    draw,
    load_bank,
    quotas,
)
from minimodel.quiz.progress import (
    PROGRESS_ENV,
    Finished,
    RecordError,
    attempt_record,
    check_attempts,
    finish_attempt,
    progress_path,
    read_attempts,
    record_attempt,
    record_problem,
    repository_root,
)

__all__ = [
    "DRAWN", "KINDS", "LANGUAGES", "LETTERS", "PROGRESS_ENV", "AmbiguousNumber", "Bank", "BankError", "Finished",
    "InvalidAnswer", "Question", "RecordError", "Result", "attempt_record", "check_attempts", "correct_answer_text",
    "decimals_for", "display_order", "draw", "expected_form", "finish_attempt", "format_number", "format_percent",
    "is_correct", "load_bank", "model_answer", "parse_answer", "parse_number", "passes", "progress_path", "quotas",
    "read_attempts", "record_attempt", "record_problem", "repository_root", "score",
]
