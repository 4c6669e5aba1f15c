"""Every compiler message: one named constructor per diagnostic, a stable code, rendering.

The codes are documented in docs/errors.md (tests check that every code has a page entry
and a fixture under tests/diagnostics/)."""

import json

REAL_LIMIT = "3.4028235e38"  # the largest binary32, as messages print it

ERROR = "error"
WARNING = "warning"

# code -> (severity, short title used in docs/errors.md)
CODES = {
    "E001": (ERROR, "cannot read the source file"),
    "E002": (ERROR, "syntax error"),
    "E003": (ERROR, "missing `program` header"),
    "E004": (ERROR, "repeated program setting"),
    "E010": (ERROR, "undefined name"),
    "E011": (ERROR, "duplicate name"),
    "E012": (ERROR, "reserved name"),
    "E020": (ERROR, "unknown type or kind"),
    "E021": (ERROR, "type mismatch"),
    "E022": (ERROR, "arithmetic on bool"),
    "E023": (ERROR, "not a contact"),
    "E024": (ERROR, "narrowing needs a conversion"),
    "E030": (ERROR, "malformed address"),
    "E031": (ERROR, "address does not fit"),
    "E032": (ERROR, "duplicate address"),
    "E040": (ERROR, "literal out of range"),
    "E041": (ERROR, "division by zero"),
    "E042": (ERROR, "bad duration or cycle"),
    "E043": (ERROR, "malformed number"),
    "E044": (ERROR, "unknown escape in a string"),
    "E050": (ERROR, "write to an input"),
    "E051": (ERROR, "write to a constant"),
    "E052": (ERROR, "timer or counter without a member"),
    "E053": (ERROR, "unknown member"),
    "E054": (ERROR, "wrong action for this kind"),
    "E055": (ERROR, "timer driven more than once"),
    "E056": (ERROR, "unknown function or wrong arguments"),
    "E057": (ERROR, "expression too deep"),
    "E058": (ERROR, "program too large for the Modbus map"),
    "E060": (ERROR, "keyword in capitals"),
    "E061": (ERROR, "`&&` or `&` instead of `and`"),
    "E062": (ERROR, "`||` or `|` instead of `or`"),
    "E063": (ERROR, "`!` instead of `not`"),
    "E064": (ERROR, "`=` instead of `:=` or `==`"),
    "E065": (ERROR, "`//` comment"),
    "E066": (ERROR, "unterminated string"),
    "W101": (WARNING, "unused variable"),
    "W102": (WARNING, "coil written by several rungs"),
    "W103": (WARNING, "timer never driven"),
    "W104": (WARNING, "counter never driven"),
    "W105": (WARNING, "output never written"),
}


class Diagnostic:
    """One message about a span of a source file."""

    def __init__(self, code, message, span=None, help=None, file="<string>"):
        self.code = code
        self.severity = CODES[code][0]
        self.message = message
        self.span = span
        self.help = help
        self.file = file

    @property
    def is_error(self):
        return self.severity == ERROR

    def render(self, source_text=None, lines=None):
        """The human form: `file:line:col: error[E0xx]: message`, source line, caret, help.

        lines is source_text split at newlines (render_all splits it once for all)."""
        if self.span is None:
            head = f"{self.file}: {self.severity}[{self.code}]: {self.message}"
            return head + (f"\n  = help: {self.help}" if self.help else "")
        sp = self.span
        out = [f"{self.file}:{sp.line}:{sp.column}: {self.severity}[{self.code}]: {self.message}"]
        if lines is None:
            lines = source_lines(source_text)
        if 0 < sp.line <= len(lines):
            text = lines[sp.line - 1]
            end = sp.end_column if sp.end_line == sp.line else len(text) + 1
            text, column, width = excerpt(text, sp.column, max(1, end - sp.column))
            gutter = str(sp.line)
            pad = " " * len(gutter)
            out.append(f"{pad} |")
            out.append(f"{gutter} | {text}")
            out.append(f"{pad} | {' ' * (column - 1)}{'^' * width}")
        if self.help:
            out.append(f"  = help: {self.help}")
        return "\n".join(out)

    def as_dict(self):
        sp = self.span
        return {
            "file": self.file,
            "line": sp.line if sp else None,
            "column": sp.column if sp else None,
            "end_line": sp.end_line if sp else None,
            "end_column": sp.end_column if sp else None,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "help": self.help,
        }


class CompileError(Exception):
    """Raised when a program has errors; `.diagnostics` holds all of them (and warnings)."""

    def __init__(self, diagnostics, source_text=None):
        self.diagnostics = list(diagnostics)
        self.source_text = source_text
        errors = [d for d in self.diagnostics if d.is_error]
        super().__init__(f"{len(errors)} error(s)")

    def __str__(self):
        # the count, then every error as the compiler prints it: a traceback says why
        errors = [d for d in self.diagnostics if d.is_error]
        return self.args[0] + "\n" + render_all(errors, self.source_text)

    def render(self):
        return render_all(self.diagnostics, self.source_text)


def render_all(diagnostics, source_text):
    """All diagnostics in source order, separated by blank lines."""
    lines = source_lines(source_text)
    return "\n\n".join(d.render(source_text, lines) for d in diagnostics)


def source_lines(source_text):
    """The lines as the parser counts them: split at \\n only, a CRLF's \\r dropped."""
    if source_text is None:
        return []
    return [line[:-1] if line.endswith("\r") else line for line in source_text.split("\n")]


EXCERPT = 120  # columns of a long line shown around the caret


def excerpt(text, column, width):
    """(shown text, caret column, caret width) for a source line: the whole line when short,
    else EXCERPT columns around the caret with `...` where it is cut; control characters are
    shown as `?` so that a file cannot drive the terminal."""
    start = 0
    end = len(text)
    if end > EXCERPT:
        start = max(0, min(column - 1 - EXCERPT // 3, end - EXCERPT))
        end = start + EXCERPT
    shown = "".join(c if c.isprintable() else "?" for c in text[start:end].expandtabs(1))
    prefix = "..." if start else ""
    suffix = "..." if end < len(text) else ""
    column = column - start + len(prefix)
    width = max(1, min(width, len(prefix) + len(shown) - column + 2))
    return prefix + shown + suffix, column, width


def clip(text, width=40):
    """text for a message: printable, at most width characters."""
    text = "".join(c if c.isprintable() else "?" for c in text[: width + 1])
    return text if len(text) <= width else text[:width] + "..."


def to_json(diagnostics):
    """Machine-readable diagnostics for editors."""
    return json.dumps([d.as_dict() for d in diagnostics], indent=2)


def _q(name):
    return f"`{clip(name)}`"


# ---- constructors: the only place message texts are written --------------------------


class Reporter:
    """Collects diagnostics for one file; each method is one named diagnostic."""

    def __init__(self, file):
        self.file = file
        self.items = []

    def _add(self, code, message, span, help=None):
        # a message quotes source text: bounded, whatever the source holds
        self.items.append(Diagnostic(code, clip(message, 300), span, help, self.file))

    @property
    def has_errors(self):
        return any(d.is_error for d in self.items)

    def sorted(self):
        def key(d):
            sp = d.span
            return (sp.line, sp.column) if sp else (0, 0)

        return sorted(self.items, key=key)

    # files and syntax
    def unreadable(self, reason):
        self._add("E001", f"cannot read the program: {reason}", None)

    def syntax(self, span, message, help=None):
        self._add("E002", message, span, help)

    def too_many_syntax_errors(self, span, limit):
        self._add(
            "E002",
            f"more than {limit} syntax errors: the rest of the file is not checked",
            span,
            "fix the errors above first",
        )

    # habits from other languages: each its own code, the parser goes on after it
    def capital_keyword(self, span, word):
        self._add(
            "E060",
            f"{_q(word)} is not a keyword: Rung's keywords are lower case",
            span,
            f"write {_q(word.lower())}",
        )

    def c_and(self, span, op):
        self._add(
            "E061",
            f"{_q(op)} is not an operator in Rung",
            span,
            "contacts in series are joined with `and`: `a and b`",
        )

    def c_or(self, span, op):
        self._add(
            "E062",
            f"{_q(op)} is not an operator in Rung",
            span,
            "contacts in parallel are joined with `or`: `a or b`",
        )

    def c_not(self, span):
        self._add(
            "E063",
            "`!` is not an operator in Rung",
            span,
            "a normally-closed contact is `not a`; `!=` compares two values",
        )

    def equals_sign(self, span, meant):
        if meant == ":=":
            message, help = "`=` does not assign", "assign with `:=`: `n := 5`"
        else:
            message, help = "`=` does not compare", "compare with `==`: `n == 5 -> q`"
        self._add("E064", message, span, help)

    def slash_comment(self, span):
        self._add(
            "E065",
            "`//` does not start a comment in Rung",
            span,
            "comments start with `#` and run to the end of the line",
        )

    def unterminated_string(self, span):
        self._add(
            "E066",
            "unterminated string",
            span,
            'close it with `"` on the same line: strings cannot span lines',
        )

    def missing_program(self, span):
        self._add(
            "E003",
            "a program must start with `program NAME`",
            span,
            "add a first line such as `program my_machine`",
        )

    def repeated_setting(self, span, what):
        self._add("E004", f"{what} is given more than once", span, "keep only one")

    # names
    def undefined(self, span, name, suggestion=None):
        help = f"did you mean {_q(suggestion)}?" if suggestion else "declare it first"
        self._add("E010", f"{_q(name)} is not declared", span, help)

    def duplicate(self, span, name, first_line):
        self._add(
            "E011",
            f"{_q(name)} is already declared on line {first_line}",
            span,
            "give each variable, timer and counter its own name",
        )

    def reserved(self, span, name):
        self._add("E012", f"{_q(name)} is a reserved name", span, "choose another name")

    # types
    def unknown_type(self, span, name, allowed, suggestion=None):
        help = (
            f"did you mean {_q(suggestion)}?"
            if suggestion
            else "use one of " + ", ".join(_q(a) for a in allowed)
        )
        self._add("E020", f"unknown type or kind {_q(name)}", span, help)

    def mismatch(self, span, message, help=None):
        self._add("E021", message, span, help)

    def bool_arithmetic(self, span, op):
        self._add(
            "E022",
            f"{_q(op)} needs numbers, not bool",
            span,
            "combine contacts with `and`, `or` and `not`",
        )

    def not_a_contact(self, span, what, type_name, help=None):
        self._add("E023", f"{what} is {type_name}, but a contact needs a bool", span, help)

    def narrowing(self, span, source, target):
        self._add(
            "E024",
            f"{'an' if source[0] in 'aeiou' else 'a'} {source} value does not fit "
            f"{target} without a conversion",
            span,
            f"convert explicitly with `{target}(...)`",
        )

    # addresses
    def bad_address(self, span, text, why):
        self._add(
            "E030",
            f"malformed address {_q(text)}: {why}",
            span,
            "addresses look like %IX0.0, %QX1.7, %IW0, %QW2, %MW10 or %MD4",
        )

    def address_misfit(self, span, text, why, help=None):
        self._add("E031", f"address {_q(text)} {why}", span, help)

    def duplicate_address(self, span, text, other, line):
        self._add(
            "E032",
            f"address {_q(text)} is already used by {_q(other)} (line {line})",
            span,
            "give each variable its own address",
        )

    # values
    def out_of_range(self, span, text, type_name, lo, hi):
        self._add(
            "E040",
            f"{clip(text)} is out of range for {type_name} ({lo}..{hi})",
            span,
            "a time holds up to 2147483647 ms (24 days 20 h)"
            if type_name == "time"
            else "use a wider type (dint or real) or a smaller value",
        )

    def real_out_of_range(self, span, text):
        self._add(
            "E040",
            f"{clip(text)} is out of range for real (at most {REAL_LIMIT} either side of 0)",
            span,
            "a real is an IEEE binary32 number: about 7 digits, up to 3.4e38",
        )

    def huge_integer(self, span, text, digits):
        self._add(
            "E040",
            f"{clip(text, 20)} ({digits} digits) is out of range for every type",
            span,
            "dint holds -2147483648..2147483647; real holds up to about 3.4e38",
        )

    def bad_number(self, span, text, why):
        self._add(
            "E043",
            f"malformed number {_q(text)}: {why}",
            span,
            "write 42, 1_000, or a base of 2, 8 or 16 with its digits: 2#1010, 8#17, 16#FF",
        )

    def bad_escape(self, span, message):
        self._add(
            "E044",
            message,
            span,
            'a string may hold the escapes `\\\\`, `\\"`, `\\n` and `\\t`; write other '
            "characters as they are (the file is UTF-8)",
        )

    def division_by_zero(self, span):
        self._add("E041", "division by zero", span, "divide by a non-zero value")

    def bad_duration(self, span, message, help=None):
        self._add("E042", message, span, help)

    # writes and blocks
    def write_input(self, span, name):
        self._add(
            "E050",
            f"{_q(name)} is an input: the program cannot write it",
            span,
            "write to an output or a var instead",
        )

    def write_const(self, span, name):
        self._add(
            "E051",
            f"{_q(name)} is a constant: it cannot be written",
            span,
            "declare it with `var` if it must change",
        )

    def block_without_member(self, span, name, kind, member):
        self._add(
            "E052",
            f"{kind} {_q(name)} is used without a member",
            span,
            f"did you mean {_q(name + '.' + member)}?",
        )

    def unknown_member(self, span, name, member, kind, members):
        self._add(
            "E053",
            f"{kind} {_q(name)} has no member {_q(member)}",
            span,
            "members of a " + kind + ": " + ", ".join(members),
        )

    def wrong_action(self, span, action, what, help=None):
        self._add("E054", f"`{action}` cannot be used on {what}", span, help)

    def timer_driven_twice(self, span, name, first_line):
        self._add(
            "E055",
            f"timer {_q(name)} is already driven on line {first_line}",
            span,
            "drive each timer from one rung; combine the conditions with `or`",
        )

    def bad_call(self, span, message, help=None):
        self._add("E056", message, span, help)

    def too_deep(self, span, depth, limit):
        self._add(
            "E057",
            f"expression needs a stack of {depth}, more than {limit}",
            span,
            "split it into several rungs with intermediate variables",
        )

    def chain_too_long(self, span, limit):
        self._add(
            "E057",
            f"more than {limit} operators in one chain",
            span,
            "split it into several rungs with intermediate variables",
        )

    def too_large_for_map(self, span, what, count, limit, window, all_limits):
        self._add(
            "E058",
            f"the program has {count} {what}; the Modbus {window} window has room for {limit}",
            span,
            f"a program holds at most {all_limits} (docs/modbus.md, Limits): split it",
        )

    def nesting_too_deep(self, span, limit):
        self._add(
            "E057",
            f"expression nested more than {limit} levels deep",
            span,
            "split it into several rungs with intermediate variables",
        )

    # warnings
    def unused(self, span, kind, name):
        self._add("W101", f"{kind} {_q(name)} is never used", span)

    def coil_twice(self, span, name, lines):
        self._add(
            "W102",
            f"{_q(name)} is written as a coil by the rungs on lines "
            + ", ".join(str(n) for n in lines)
            + "; the last one wins",
            span,
            "use set/reset, or combine the conditions in one rung",
        )

    def timer_never_driven(self, span, name):
        self._add("W103", f"timer {_q(name)} is never driven", span, f"add a rung `... -> {name}`")

    def counter_never_driven(self, span, name):
        self._add(
            "W104",
            f"counter {_q(name)} is never counted",
            span,
            f"add a rung `... -> count {name}`",
        )

    def output_never_written(self, span, name):
        self._add("W105", f"output {_q(name)} is never written", span)
