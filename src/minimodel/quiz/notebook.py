"""The quiz in JupyterLab: one form of ipywidgets, scored and recorded like the terminal quiz.

    from minimodel.quiz.notebook import QuizForm
    QuizForm(load_bank(15), lang="en")

Every control's value is turned into the text a learner would type in the terminal and read by the
same ``parse_answer``; ``finish_attempt`` scores, shows and records, so both ways of taking the quiz
count the same. An attempt is recorded once: after scoring, the button and the answers are disabled,
and "New attempt" draws a new set of questions with a new seed.
"""

import html
import re
import secrets

import ipywidgets as widgets
from IPython.display import display

from minimodel import quiz
from minimodel.quiz import LETTERS

LABELS = {
    "en": {"submit": "Score and record", "again": "New attempt",
           "intro": "{n} questions drawn from {bank} (seed {seed}); passed at {pass_}.",
           "missing": "Answer every question first. Still open or not in the expected form: {numbers}.",
           "score": "Score {correct}/{total} ({fraction}): {verdict}.", "pass": "passed", "fail": "not passed",
           "reread": "Re-read: {chapters}.", "saved": "Recorded in {path}.",
           "right": "✓", "wrong": "✗ The correct answer: {answer}"},
    "es": {"submit": "Corregir y guardar", "again": "Nuevo intento",
           "intro": "{n} preguntas elegidas de entre {bank} (semilla {seed}); se aprueba con un {pass_}.",
           "missing": "Responde antes todas las preguntas. Sin responder o con una forma inesperada: {numbers}.",
           "score": "Resultado {correct}/{total} ({fraction}): {verdict}.", "pass": "aprobado",
           "fail": "no aprobado", "reread": "Vuelve a leer: {chapters}.", "saved": "Guardado en {path}.",
           "right": "✓", "wrong": "✗ La respuesta correcta: {answer}"},
}


def rich(text):
    """``text`` as HTML, with its `code spans` shown as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def answer_control(question, order, lang):
    """The control for one question; ``typed(question, control)`` reads it back as terminal text.

    Long option texts are shown as wrapped HTML with their letters, and the letters
    are what one clicks: a radio button's label does not wrap and would overlap the next.
    """
    texts = question.options.get(lang) or question.items.get(lang) or []
    listing = widgets.HTML("<br>".join(f"{LETTERS[n]}) {rich(texts[i])}" for n, i in enumerate(order)))
    letters = list(LETTERS[: len(order)])
    if question.kind == "choice":
        pick = widgets.ToggleButtons(options=letters, value=None, style={"button_width": "3em"})
        return widgets.VBox([listing, pick])
    if question.kind == "multi":
        boxes = [widgets.Checkbox(description=letter, indent=False, layout=widgets.Layout(width="4em"))
                 for letter in letters]
        return widgets.VBox([listing, widgets.HBox(boxes)])
    text = widgets.Text(placeholder=quiz.expected_form(question, lang), layout=widgets.Layout(width="22em"))
    return widgets.VBox([listing, text]) if question.kind == "order" else text


def typed(question, control):
    """The answer in a control, as the text a learner would type in the terminal ('' if none)."""
    if question.kind == "numeric":
        return control.value
    answer = control.children[-1]
    if question.kind == "multi":
        return ", ".join(box.description for box in answer.children if box.value)
    return answer.value or ""


def inputs(control):
    """Every widget of a control a learner can change (to disable them once the attempt is scored)."""
    if isinstance(control, widgets.Box):
        return [w for child in control.children for w in inputs(child)]
    return [] if isinstance(control, widgets.HTML) else [control]


class QuizForm:
    """One drawn attempt with a control per question, a button that scores, shows and records once."""

    def __init__(self, bank, *, lang="en", seed=None, progress=None):
        self.bank, self.lang, self.progress = bank, lang, progress
        self.submit_button = widgets.Button(description=LABELS[lang]["submit"], button_style="primary")
        self.submit_button.on_click(lambda _: self.submit())
        self.again_button = widgets.Button(description=LABELS[lang]["again"], disabled=True)
        self.again_button.on_click(lambda _: self.new_attempt())
        self.output = widgets.Output()
        self.widget = widgets.VBox()
        self.new_attempt(seed)

    def new_attempt(self, seed=None):
        """Draw a new attempt (a new random seed unless one is given) and show its empty form."""
        labels = LABELS[self.lang]
        self.seed = secrets.randbelow(10**6) if seed is None else seed
        self.asked = quiz.draw(self.bank, self.seed)
        self.controls = [answer_control(q, order, self.lang) for q, order in self.asked]
        self.finished = None
        intro = labels["intro"].format(n=len(self.asked), bank=len(self.bank.questions), seed=self.seed,
                                       pass_=quiz.format_percent(self.bank.pass_fraction, self.lang))
        rows = [widgets.HTML(f"<p>{html.escape(intro)}</p>")]
        for number, ((question, _), control) in enumerate(zip(self.asked, self.controls, strict=True), start=1):
            prompt = f"<b>{number}.</b> {rich(question.prompt[self.lang])} <i>({question.chapter})</i>"
            rows += [widgets.HTML(prompt), control]
        self.output.clear_output()
        self.submit_button.disabled, self.again_button.disabled = False, True
        self.widget.children = [*rows, widgets.HBox([self.submit_button, self.again_button]), self.output]

    def answers(self):
        """({question id: answer} of the well-formed answers, [(number, hint) of the others])."""
        answers, open_ = {}, []
        for number, ((question, order), control) in enumerate(zip(self.asked, self.controls, strict=True), start=1):
            try:
                answers[question.id] = quiz.parse_answer(question, typed(question, control), order, self.lang)
            except quiz.AmbiguousNumber as hint:
                open_.append((number, str(hint)))
            except quiz.InvalidAnswer:
                open_.append((number, None))
        return answers, open_

    def submit(self):
        """Score and record when every answer is well formed; otherwise say which are not (nothing recorded).

        Returns the Result, or None when nothing was scored. A second press does nothing.
        """
        labels, (answers, open_) = LABELS[self.lang], self.answers()
        if self.finished is not None:
            return None
        self.output.clear_output()
        with self.output:
            if open_:
                print(labels["missing"].format(numbers=", ".join(str(n) for n, _ in open_)))
                for number, hint in open_:
                    if hint:
                        print(f"{number}. {hint}")
                return None
            self.submit_button.disabled = True  # one record per attempt
            for control in self.controls:
                for widget in inputs(control):
                    widget.disabled = True
            self.finished = quiz.finish_attempt(self.bank, [q for q, _ in self.asked], answers, via="notebook",
                                                lang=self.lang, seed=self.seed, show=lambda r: self.show(r, answers),
                                                progress=self.progress)
            if self.finished.error is not None:
                print("\n" + self.finished.error.explain(self.finished.record, self.lang))
            else:
                print(labels["saved"].format(path=self.finished.path))
            self.again_button.disabled = False
            return self.finished.result

    def show(self, result, answers):
        labels = LABELS[self.lang]
        for number, (question, order) in enumerate(self.asked, start=1):
            right = quiz.is_correct(question, answers[question.id])
            mark = labels["right"] if right else labels["wrong"].format(
                answer=quiz.correct_answer_text(question, order, self.lang))
            print(f"{number}. {mark}\n   {question.explanation[self.lang]}")
        verdict = labels["pass"] if result.passed else labels["fail"]
        print(labels["score"].format(correct=result.correct, total=result.total, verdict=verdict,
                                     fraction=quiz.format_percent(result.fraction, self.lang)))
        if result.reread:
            print(labels["reread"].format(chapters=", ".join(f"{c}.md" for c, _ in result.reread)))

    def _ipython_display_(self):
        display(self.widget)
