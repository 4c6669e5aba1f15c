"""Regenerate docs/errors.md from the diagnostics table and the fixtures in tests/diagnostics/.

Run after changing a message: RUNG_UPDATE_EXPECTED=1 pytest tests/test_diagnostics.py, review,
then .venv/bin/python tools/gen_errors_doc.py."""

import os

from rung.compiler.diagnostics import CODES
from rung.compiler.recovery import MAX_SYNTAX_ERRORS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# code -> (what it means, how to fix it)
EXPLAIN = {
    "E001": (
        "The file could not be read: it does not exist, is a directory, is binary, or is not UTF-8 text.",
        "Save the program as UTF-8 text with the `.rung` extension and check the path.",
    ),
    "E002": (
        "The text does not follow the grammar. The message says what was expected at that point. The compiler goes on after a syntax error: it drops the broken statement, continues at the next statement keyword and reports every error of the file "
        f"(up to {MAX_SYNTAX_ERRORS} syntax errors; then it says so and stops).",
        'Write the rung as `rung [NAME] ["comment"] : CONDITION -> ACTION, ...`; here an operator is missing between `a` and `q`: `rung: a and q -> q`.',
    ),
    "E003": (
        "Every program starts with `program NAME`.",
        "Add `program my_machine` as the first statement.",
    ),
    "E004": ("A program setting such as `cycle` appears twice.", "Keep one `cycle` line."),
    "E010": (
        "A name is used that was never declared (often a typo; the help suggests the closest name).",
        "Fix the spelling (`start_pb`) or declare the variable.",
    ),
    "E011": (
        "Two declarations use the same name.",
        "Rename one of them: names are case-sensitive and shared by variables, timers and counters.",
    ),
    "E012": (
        "The name belongs to the language: a system contact (`first_scan`, `clock_100ms`, `clock_1s`, `math_error`), a type or a function.",
        "Choose another name, e.g. `first_pass`.",
    ),
    "E020": (
        "The type of a variable or the kind of a timer/counter is unknown.",
        "Use `bool`, `int`, `dint`, `real`, `time`; timers `TON`, `TOF`, `TP`, `RTO`; counters `CTU`, `CTD`, `CTUD`.",
    ),
    "E021": (
        "Two values of incompatible types meet (for example int and time), or a value does not fit where it is used.",
        "Convert explicitly: `time(n) > t` or `n > dint(t)`.",
    ),
    "E022": (
        "Arithmetic or an ordering comparison on bool values.",
        "Combine bools with `and`, `or`, `not`; use numbers for arithmetic.",
    ),
    "E023": (
        "A number is used where a contact (bool) is needed.",
        "Compare it: `a and temp > 500 -> q`.",
    ),
    "E024": (
        "A wider value is stored in a narrower variable (dint into int, real into dint...).",
        "Convert explicitly, accepting wrap-around or rounding: `n := int(d)`.",
    ),
    "E030": (
        "The address is not of the form `%IX<byte>.<bit>`, `%QX<byte>.<bit>`, `%IW<n>`, `%QW<n>`, `%MW<n>` or `%MD<n>`, a bit number is above 7, or it lies beyond the last address.",
        "`input b : bool at %IX1.0`.",
    ),
    "E031": (
        "The address area does not fit the type (a bool needs %IX/%QX, an int %IW/%QW/%MW, a dint/real/time %MD) or the declaration (inputs %I, outputs %Q, vars %M).",
        "`input n : int at %IW0`, `output w : bool at %QX0.2`.",
    ),
    "E032": ("Two variables share one address.", "Give each variable its own address."),
    "E040": (
        "A literal does not fit its type: int is -32768..32767, dint -2147483648..2147483647, time 0..2147483647 ms, real at most 3.4028235e38 either side of 0 (`1e39` and `1e999` are refused, not turned into infinity).",
        "Use a `dint` variable or a smaller value.",
    ),
    "E041": (
        "Division or `mod` by the literal 0. (At run time, division by a variable that is zero gives 0 and sets `math_error`.)",
        "Divide by a non-zero value.",
    ),
    "E042": (
        "The scan cycle or a duration is out of range (the cycle must be 1ms..60s).",
        "`cycle 10ms`.",
    ),
    "E043": (
        "An integer literal that is not a number: a digit that its base does not have (`8#9`, `16#FG`), a base other than 2, 8 and 16 (`99#1`), or no digits at all (`2#_`).",
        "`8#17`, `16#FF`, `2#1010_0101`; or write the value in decimal.",
    ),
    "E044": (
        'A backslash in a string (a description or a rung comment) starts an escape: `\\\\` (a backslash), `\\"` (a quote), `\\n` (new line) and `\\t` (tab) are the only ones.',
        'Double the backslash (`"C:\\\\data"`), or write the character itself: source files are UTF-8, so `"café"` needs no escape.',
    ),
    "E050": (
        "An action writes an input, which only the hardware (or forcing) may change.",
        "Write an output or a `var` instead.",
    ),
    "E051": (
        "An action writes a constant.",
        "Declare it with `var` if it must change at run time.",
    ),
    "E052": (
        "A timer or counter is used as a contact or value without a member.",
        "Use the member you mean: `t.Q` (done), `t.ET` (elapsed), `c.CV` (count).",
    ),
    "E053": (
        "The member does not exist for that kind.",
        "Timers have Q, ET, PT; CTU/CTD have Q, CV, PV; CTUD has QU, QD, CV, PV.",
    ),
    "E054": (
        "The action does not apply to that kind of thing: `count` on a timer, `load` on a CTU, `:=` on a timer...",
        "Drive a timer with `-> t`; count with `count c` (CTU, CTUD), `count_down c` (CTD, CTUD); `load c` needs a CTD or CTUD.",
    ),
    "E055": (
        "A timer is driven by two actions; its input would depend on rung order.",
        "Drive it from one rung and combine the conditions: `a or b -> t`.",
    ),
    "E056": (
        "An unknown function, or the wrong number of arguments.",
        "Functions: `abs(x)`, `min(a, b)`, `max(a, b)`, `limit(lo, x, hi)`, conversions `int(x)`, `dint(x)`, `real(x)`, `time(x)`.",
    ),
    "E057": (
        "The expression needs more than 32 stack slots in the bytecode, or is nested more than 200 levels deep.",
        "Split it across rungs with intermediate `var` bools.",
    ),
    "E058": (
        "The program has more variables, timers and counters, or rungs than the Modbus diagnostic window has room for (docs/modbus.md, Limits): 5000 variables (constants included), 1250 timers and counters, 16000 rungs. The windows have fixed addresses, so a bigger program would make one window cover the next.",
        "Split the program over two boards (each serves its own map), or use fewer variables, timers or rungs.",
    ),
    "E060": (
        "A keyword written in capitals, as Structured Text allows (`AND`, `OR`, `NOT`, `TRUE`, `VAR`...). Rung's keywords are lower case; the compiler reads the statement as if it were, so the errors after it are still found.",
        "`rung: a and not b -> q`.",
    ),
    "E061": (
        "`&&` or `&` (C, Structured Text) where Rung writes `and`.",
        "`rung: a and b -> q`.",
    ),
    "E062": (
        "`||` or `|` (C) where Rung writes `or`.",
        "`rung: a or b -> q`.",
    ),
    "E063": (
        "`!` (C) where Rung writes `not`. (`!=` is Rung's not-equal comparison.)",
        "`rung: a and not b -> q`.",
    ),
    "E064": (
        "`=` (Structured Text, Python, BASIC) where Rung writes `:=` to assign or `==` to compare. `=` only gives a value in declarations: `var n : int = 5`, `timer t : TON = 5s`.",
        "`rung: a -> n := 5` and `rung: n == 5 -> q`.",
    ),
    "E065": (
        "A `//` comment (C, Java, Structured Text). Rung's comments start with `#`; the compiler skips the rest of the line and goes on.",
        "`rung: a -> q  # seal-in`.",
    ),
    "E066": (
        "A string (a description or a rung comment) without its closing `\"` on the same line. Strings cannot span lines.",
        'Close it: `output q : bool at %QX0.0 "pump running"`.',
    ),
    "W101": (
        "A variable or input is declared but never used (located %MW/%MD variables are exempt: Modbus may use them).",
        "Remove it or use it.",
    ),
    "W102": (
        "Two rungs write the same coil; the last rung in the program wins, which is rarely what was meant.",
        "Use `set`/`reset`, or one rung with `or`.",
    ),
    "W103": (
        "A timer is declared but no rung drives it, so it never runs.",
        "Add a rung `CONDITION -> t`.",
    ),
    "W104": (
        "A counter is declared but never counted.",
        "Add a rung `CONDITION -> count c` (or `count_down c`).",
    ),
    "W105": (
        "An output is declared but no rung writes it; it stays off.",
        "Write it from a rung or remove it.",
    ),
}


def _shorten(src, keep=6):
    """A fixture's source for the page: long ones (E058) keep their first and last lines."""
    lines = src.rstrip("\n").split("\n")
    if len(lines) <= 4 * keep:
        return src
    hidden = len(lines) - 2 * keep
    return "\n".join(lines[:keep] + [f"# ... {hidden} more lines like these ..."] + lines[-keep:])


def main():
    out = [
        "# Diagnostics",
        "",
        "Every message of `rung check` has a stable code: `E0xx` errors stop the build, `W1xx`",
        "warnings do not. Each entry shows a bad program (the fixture in `tests/diagnostics/`),",
        "the exact output, and the fix. `rung check --json` gives the same diagnostics as JSON.",
        "",
    ]
    for code, (_sev, title) in CODES.items():
        desc, fix = EXPLAIN[code]
        base = os.path.join(ROOT, "tests", "diagnostics", code)
        with open(base + ".rung", "rb") as f:
            src = _shorten(f.read().decode("utf-8", "replace"))
        with open(base + ".expected") as f:
            rendered = f.read()
        out += [
            f"## {code} — {title}",
            "",
            desc,
            "",
            "```",
            src.rstrip("\n"),
            "```",
            "",
            "```",
            rendered.rstrip("\n"),
            "```",
            "",
            "**Fix:** " + fix,
            "",
        ]
    with open(os.path.join(ROOT, "docs", "errors.md"), "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
