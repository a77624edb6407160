"""The ``minimodel`` command: ``minimodel quiz 15`` and ``minimodel check 15``.

    minimodel quiz 15 [--seed N] [--lang es]   the phase quiz in the terminal
    minimodel check 15                          the Definition of Done as a checklist

``python -m minimodel ...`` is the same command. Exit statuses of ``quiz``: 0 passed, 1 not passed,
3 finished but not recorded (the progress file could not be written; the record is printed),
130 stopped early; 2 for bad arguments or an unreadable bank, as for ``check`` (0 done, 1 not done).
"""

import argparse
import sys

PHASES = (15,)


def _phase(text):
    if not text.isdigit() or int(text) not in PHASES:
        raise argparse.ArgumentTypeError(f"this repository holds phase {', '.join(map(str, PHASES))}, not {text!r}")
    return int(text)


def _seed(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed takes an integer, got {text!r}") from None


def parser():
    main = argparse.ArgumentParser(prog="minimodel", description="minimodel course tools")
    commands = main.add_subparsers(dest="command", required=True)
    quiz = commands.add_parser("quiz", help="take a phase quiz in the terminal")
    quiz.add_argument("phase", type=_phase, help="the phase number: 15")
    quiz.add_argument("--seed", type=_seed, help="repeat a draw of questions (its seed is printed first)")
    quiz.add_argument("--lang", choices=("en", "es"), default="en", help="language of the questions (default: en)")
    check = commands.add_parser("check", help="the phase's Definition of Done as a checklist")
    check.add_argument("phase", type=_phase, help="the phase number: 15")
    return main


def main(argv=None, stdin=None, stdout=None):
    args = parser().parse_args(argv)
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    try:
        if args.command == "quiz":
            from minimodel.quiz import load_bank
            from minimodel.quiz.terminal import run

            return run(load_bank(args.phase), lang=args.lang, seed=args.seed, stdin=stdin, out=stdout)
        from minimodel.done import checklist, report

        return report(checklist(), stdout)
    except KeyboardInterrupt:  # outside a question (the quiz handles its own): end quietly
        stdout.write("\ninterrupted\n")
        return 130
    except (OSError, ValueError) as error:  # a bank or progress file problem: say what, no traceback
        print(f"minimodel: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
