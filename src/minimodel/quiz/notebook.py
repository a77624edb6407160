"""The quiz in JupyterLab: one form of ipywidgets, scored and recorded like the terminal quiz.

    from minimodel.quiz.notebook import QuizForm
    QuizForm(load_bank(15), lang="en", seed=15)

Every control's value is turned into the text a learner would type in the
terminal and read by the same ``parse_answer``; ``finish_attempt`` scores and
records, so both ways of taking the quiz count the same.
"""

import html

import ipywidgets as widgets
from IPython.display import display

from minimodel import quiz
from minimodel.quiz import LETTERS

LABELS = {
    "en": {"submit": "Score and record", "missing": "Answer every question first. Still open or not in the expected "
           "form: {numbers}.", "score": "Score {correct}/{total} ({fraction:.0%}): {verdict}. Recorded in {path}.",
           "pass": "passed", "fail": "not passed", "reread": "Re-read: {chapters}."},
    "es": {"submit": "Corregir y guardar", "missing": "Responde antes todas las preguntas. Sin responder o con una "
           "forma inesperada: {numbers}.", "score": "Resultado {correct}/{total} ({fraction:.0%}): {verdict}. "
           "Guardado en {path}.", "pass": "aprobado", "fail": "no aprobado", "reread": "Vuelve a leer: {chapters}."},
}


def answer_control(question, order, lang):
    """The control for one question; ``typed(question, control)`` reads it back as terminal text.

    Long option texts are shown as wrapped HTML with their letters, and the letters
    are what one clicks: a radio button's label does not wrap and would overlap the next.
    """
    texts = question.options.get(lang) or question.items.get(lang) or []
    listing = widgets.HTML("<br>".join(f"{LETTERS[n]}) {html.escape(texts[i])}" for n, i in enumerate(order)))
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


class QuizForm:
    """Every question of a bank with its control, a button that scores, shows and records."""

    def __init__(self, bank, *, lang="en", seed=15, progress=None):
        self.bank, self.lang, self.seed, self.progress = bank, lang, seed, progress
        self.asked = quiz.shuffled(bank, seed)
        self.controls = [answer_control(q, order, lang) for q, order in self.asked]
        self.output = widgets.Output()
        button = widgets.Button(description=LABELS[lang]["submit"], button_style="primary")
        button.on_click(lambda _: self.submit())
        rows = []
        for number, ((question, _), control) in enumerate(zip(self.asked, self.controls, strict=True), start=1):
            prompt = f"<b>{number}.</b> {html.escape(question.prompt[lang])} <i>({question.chapter})</i>"
            rows += [widgets.HTML(prompt), control]
        self.widget = widgets.VBox([*rows, button, self.output])

    def answers(self):
        """({question id: answer} of the well-formed answers, [numbers of the others])."""
        answers, open_ = {}, []
        for number, ((question, order), control) in enumerate(zip(self.asked, self.controls, strict=True), start=1):
            try:
                answers[question.id] = quiz.parse_answer(question, typed(question, control), order, self.lang)
            except quiz.InvalidAnswer:
                open_.append(number)
        return answers, open_

    def submit(self):
        """Score and record when every answer is well formed; otherwise say which are not (nothing recorded)."""
        labels, (answers, open_) = LABELS[self.lang], self.answers()
        self.output.clear_output()
        with self.output:
            if open_:
                print(labels["missing"].format(numbers=", ".join(map(str, open_))))
                return None
            result, path = quiz.finish_attempt(self.bank, answers, via="notebook", lang=self.lang, seed=self.seed,
                                               progress=self.progress)
            for number, (question, order) in enumerate(self.asked, start=1):
                mark = "✓" if quiz.is_correct(question, answers[question.id]) else "✗ " + quiz.correct_answer_text(
                    question, order, self.lang)
                print(f"{number}. {mark}\n   {question.explanation[self.lang]}")
            verdict = labels["pass"] if result.passed else labels["fail"]
            print(labels["score"].format(correct=result.correct, total=result.total, fraction=result.fraction,
                                         verdict=verdict, path=path))
            if result.reread:
                print(labels["reread"].format(chapters=", ".join(f"theory/{c}.md" for c, _ in result.reread)))
            return result

    def _ipython_display_(self):
        display(self.widget)
