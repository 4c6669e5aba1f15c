"""What a syntax error means, in words: a lark UnexpectedToken or UnexpectedCharacters becomes
one diagnostic. Habits from other languages (`&&`, `AND`, `=` for `:=`, `//` comments...) get
their own codes and a repair, so that recovery.py can parse on as if Rung had been written."""

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from . import syntax as s
from .diagnostics import clip

# keywords as a habit from IEC 61131-3 Structured Text writes them, and the terminal each is
KEYWORD_TERMINALS = {
    "and": "_AND",
    "or": "_OR",
    "not": "NOT",
    "mod": "MUL_OP",
    "true": "TRUE",
    "false": "FALSE",
    "rising": "RISING",
    "falling": "FALLING",
    "set": "SET",
    "reset": "RESET",
    "count": "COUNT",
    "count_down": "COUNT_DOWN",
    "load": "LOAD",
    "at": "_AT",
    "retain": "_RETAIN",
    "program": "_PROGRAM",
    "cycle": "_CYCLE",
    "input": "_INPUT",
    "output": "_OUTPUT",
    "var": "_VAR",
    "const": "_CONST",
    "timer": "_TIMER",
    "counter": "_COUNTER",
    "rung": "_RUNG",
}
DECLARATION_TERMINALS = {"_INPUT", "_OUTPUT", "_VAR", "_CONST", "_TIMER", "_COUNTER", "_CYCLE"}
STATEMENT_TERMINALS = DECLARATION_TERMINALS | {"_RUNG", "_PROGRAM"}
STATEMENT_WORDS = {w for w, t in KEYWORD_TERMINALS.items() if t in STATEMENT_TERMINALS}
_CONTACT_OPERATORS = {"_AND", "_OR", "NOT", "RISING", "FALLING"}
_VALUE_OPERATORS = {"ADD_OP", "MUL_OP", "COMPARE", "_MINUS", "_ASSIGN", "COMMA"}


class Problem:
    """One syntax error: report(reporter) adds its diagnostic; repair (or None) says how
    recovery can go on without dropping the statement:
      ("replace", terminal, text, start, end)  feed this token for source[start:end]
      ("replace_previous", terminal, text)     the token before the error was that keyword
      ("skip", pos, pop_previous)              ignore the source up to pos
      ("string", start, end)                   a string that lacks its closing quote
    """

    def __init__(self, report, repair=None):
        self.report = report
        self.repair = repair


def describe(exc, ip, text):
    """The Problem for a lark exception raised while parsing text (ip: its interactive parser)."""
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, ip, text)
    return _bad_token(exc, ip, text)


def _span(text, start, end):
    """The Span of text[start:end], which lies on one line."""
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return s.Span(line, column, line, column + max(1, end - start))


def _bad_character(exc, ip, text):
    p = exc.pos_in_stream
    ch = text[p]
    two = text[p : p + 2]
    if ch == "&":
        op = "&&" if two == "&&" else "&"
        span = _span(text, p, p + len(op))
        return Problem(lambda r: r.c_and(span, op), ("replace", "_AND", "and", p, p + len(op)))
    if ch == "|":
        op = "||" if two == "||" else "|"
        span = _span(text, p, p + len(op))
        return Problem(lambda r: r.c_or(span, op), ("replace", "_OR", "or", p, p + len(op)))
    if ch == "!":
        span = _span(text, p, p + 1)
        return Problem(lambda r: r.c_not(span), ("replace", "NOT", "not", p, p + 1))
    if ch == '"':
        eol = text.find("\n", p)
        eol = len(text) if eol < 0 else eol
        span = _span(text, p, eol)
        return Problem(lambda r: r.unterminated_string(span), ("string", p, eol))
    span = _span(text, p, p + 1)
    shown = ch if ch.isprintable() else repr(ch)[1:-1]
    if ch == ";":
        help = "Rung statements need no `;`: each ends where the next keyword starts"
        return Problem(lambda r: r.syntax(span, "unexpected `;`", help), ("skip", p + 1, False))
    message = f"unexpected character `{shown}`"
    help = _expected_help(exc.allowed)
    return Problem(lambda r: r.syntax(span, message, help))


def _bad_token(exc, ip, text):
    tok = exc.token
    stack = ip.parser_state.value_stack
    prev = _last_token(stack[-1]) if stack else None
    at_end = tok.type == "$END"
    if at_end:
        end = len(text.rstrip("\n")) if text.strip() else 0
        span = _span(text, end, end + 1)
    else:
        span = _span(text, tok.start_pos, tok.end_pos)
    expected = set(exc.expected or ())
    habit = _habit(tok, prev, stack and stack[-1] is prev, expected, text, span)
    if habit is not None:
        return habit
    swallowed = prev is not None and prev.type == "NAME" and str(prev) in STATEMENT_WORDS
    if swallowed and _starts_line(prev, text) and len(stack) > 1:
        return _unfinished(prev, ip, text)
    position = ip.parser_state.position
    if str(tok) in STATEMENT_WORDS - {"program"} and stack:
        # the next statement begins: say what the unfinished one lacks
        end = Token("$END", "")
        label, help = _label(end, prev, expected, _context(stack), position)
        message = f"unexpected `{tok}`: the statement before it is not finished"
        return Problem(lambda r: r.syntax(span, message, label or help))
    found = "unexpected end of file" if at_end else f"unexpected `{clip(str(tok))}`"
    label, help = _label(tok, prev, expected, _context(stack), position)
    message = found + (f": {label}" if label else "")
    if at_end and not label:
        message += ": the program ends in the middle of a statement"
    return Problem(lambda r: r.syntax(span, message, help))


def _habit(tok, prev, prev_on_top, expected, text, span):
    """The Problem for a habit from another language, or None. prev_on_top: the token before
    tok is still on the parser's stack as itself (so a repair may take it back)."""
    word = str(tok)
    if tok.type != "$END" and word != word.lower() and word.lower() in KEYWORD_TERMINALS:
        terminal = KEYWORD_TERMINALS[word.lower()]
        return Problem(
            lambda r: r.capital_keyword(span, word),
            ("replace", terminal, word.lower(), tok.start_pos, tok.end_pos),
        )
    if (
        prev_on_top
        and prev.type == "NAME"
        and str(prev) != str(prev).lower()
        and str(prev).lower() in KEYWORD_TERMINALS
    ):
        pspan = _span(text, prev.start_pos, prev.end_pos)
        terminal = KEYWORD_TERMINALS[str(prev).lower()]
        return Problem(
            lambda r: r.capital_keyword(pspan, str(prev)),
            ("replace_previous", terminal, str(prev).lower()),
        )
    if word == "=" and ("_ASSIGN" in expected or "COMPARE" in expected):
        if "_ASSIGN" in expected:
            repair = ("replace", "_ASSIGN", ":=", tok.start_pos, tok.end_pos)
            return Problem(lambda r: r.equals_sign(span, ":="), repair)
        repair = ("replace", "COMPARE", "==", tok.start_pos, tok.end_pos)
        return Problem(lambda r: r.equals_sign(span, "=="), repair)
    if word == "/":
        eol = text.find("\n", tok.start_pos)
        eol = len(text) if eol < 0 else eol
        if text.startswith("//", tok.start_pos):
            span = _span(text, tok.start_pos, tok.start_pos + 2)
            return Problem(lambda r: r.slash_comment(span), ("skip", eol, False))
        if prev_on_top and str(prev) == "/" and prev.end_pos == tok.start_pos:
            pspan = _span(text, prev.start_pos, tok.end_pos)
            return Problem(lambda r: r.slash_comment(pspan), ("skip", eol, True))
    return None


def _starts_line(tok, text):
    if tok is None or tok.start_pos is None:
        return False
    line_start = text.rfind("\n", 0, tok.start_pos) + 1
    return not text[line_start : tok.start_pos].strip()


def _unfinished(keyword, ip, text):
    """A statement keyword at the start of a line that the statement before it took as a
    name (`rung: a and` then `rung: b -> q`): say the statement before is not finished."""
    state = ip.parser_state
    stack = state.value_stack[:-1]
    before = _last_token(stack[-1]) if stack else None
    position = state.state_stack[-2]
    expected = {t for t in state.parse_conf.states[position] if t.isupper() or t == "$END"}
    label, help = _label(keyword, before, expected, _context(stack), position)
    span = _span(text, keyword.start_pos, keyword.end_pos)
    message = f"unexpected `{keyword}`: the statement before it is not finished"
    return Problem(lambda r: r.syntax(span, message, label or help))


def _label(tok, prev, expected, context, position):
    """(what was expected, help) for a token the grammar does not take here."""
    tt = tok.type
    after = f"`{clip(str(prev))}`" if prev is not None else None
    if tt == "_PROGRAM" or str(tok) == "program":
        return "`program NAME` comes once, at the start of the file", None
    if tt == "COMPARE" and str(tok) == ">" and prev is not None and str(prev) == "<":
        return "`<>` is not an operator in Rung", "write `!=` for not equal"
    if "NAME" in expected and "LPAR" in expected:  # an operand is missing
        if prev is None:
            return "expected a contact or a value", None
        if prev.type in _CONTACT_OPERATORS or prev.type == "COLON":
            return f"expected a contact or a comparison after {after}", None
        if prev.type in _VALUE_OPERATORS or prev.type == "LPAR":
            return f"expected a value after {after}", None
        return "expected a contact or a value", None
    if context == "condition" and "_ARROW" in expected:
        if tt == "RPAR":
            return "unbalanced parentheses: this `)` closes nothing", None
        return (
            "expected `->` after the contacts",
            "join contacts with `and` (in series) or `or` (in parallel)"
            if tt in ("NAME", "INTEGER", "REAL", "DURATION", "LPAR", "TRUE", "FALSE")
            else None,
        )
    if "RPAR" in expected and tt in ("_ARROW", "$END", "COMMA", "_ASSIGN"):
        return "unbalanced parentheses: a `(` is not closed", None
    if context == "action":
        if prev is not None and prev.type in ("_ARROW", "COMMA"):
            return f"expected an action after {after}", "actions: q, not q, set q, n := ..."
        if "COMMA" in expected and tt == "NAME":
            return "expected `,` between actions", None
    between = context == "top" or (expected & STATEMENT_TERMINALS and tt == "NAME")
    if between and tt != "$END":
        return (
            "expected a declaration or a rung",
            "statements start with `program`, `cycle`, `input`, `output`, `var`, `const`, "
            "`timer`, `counter` or `rung`",
        )
    label = _example_label(position)
    if label:
        return label, None
    return None, _expected_help(expected)


def _context(stack):
    """Where the parser is, from the tokens still on its stack: 'action' (after `->`),
    'condition' (in a rung before `->`), 'decl', or 'top' (between statements)."""
    for value in reversed(stack):
        if isinstance(value, Token):
            if value.type == "_ARROW":
                return "action"
            if value.type == "_RUNG":
                return "condition"
            if value.type in DECLARATION_TERMINALS or value.type == "_PROGRAM":
                return "decl"
    return "top"


def _last_token(value):
    """The last token of a value on the parser's stack (a token or a tree), or None."""
    while value is not None and not isinstance(value, Token):
        children = [c for c in getattr(value, "children", ()) if c is not None]
        value = children[-1] if children else None
    return value


# Declaration states -> messages, found by parsing these examples (lark's match_examples idea,
# keyed on the current LALR state, which does not depend on what came before the statement).
_EXAMPLES = {
    "expected `:` after the rung name": ["rung a b", 'rung a "c" d'],
    "expected `: TYPE` after the name": ["input a bool", "output q bool", "var x int"],
    "expected `: KIND` after the name": ["timer t TON", "counter c CTU"],
    "expected `at ADDRESS` after the type": ["input a : bool", 'output q : bool "d"'],
    "expected an address after `at`": ["input a : bool at", "var x : int at"],
    "expected `= PRESET` after the kind": ["timer t : TON", "counter c : CTU"],
    "expected a value after `=`": ["const K =", "var x : int =", "timer t : TON ="],
    "expected a duration after `cycle`": ["cycle 10"],
}
_STATES = None


def _example_label(position):
    global _STATES
    if _STATES is None:
        from .parser import lark_parser

        _STATES = {}
        for label, examples in _EXAMPLES.items():
            for example in examples:
                try:
                    lark_parser().parse(example)
                except UnexpectedToken as ut:
                    _STATES.setdefault(ut.state.position, label)
                except UnexpectedCharacters:
                    pass
    return _STATES.get(position)


_TERMINAL_NAMES = {
    "NAME": "a name",
    "INTEGER": "an integer",
    "REAL": "a real",
    "DURATION": "a duration",
    "ADDRESS": "an address",
    "STRING": 'a "description"',
    "COLON": "`:`",
    "COMMA": "`,`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "EQUAL": "`=`",
    "DOT": "`.`",
    "_MINUS": "`-`",
    "_ASSIGN": "`:=`",
    "_ARROW": "`->`",
    "COMPARE": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*`, `/` or `mod`",
    "$END": "end of file",
}


def _expected_help(expected):
    names = sorted(
        _TERMINAL_NAMES.get(t, f"`{t.lstrip('_').lower()}`")
        for t in (expected or ())
        if not t.startswith("__")
    )
    return "expected " + ", ".join(names) if names and len(names) <= 6 else None
