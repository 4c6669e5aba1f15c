"""Parsing on after a syntax error, so that one run reports every error of a file.

Recovery is lark's LALR `on_error` hook: it gets each error with the interactive parser,
reports it, changes the parser's state and lets lark resume. Two ways back into the grammar:

- a repair, for the habits from other languages whose meaning is plain (`&&` for `and`,
  `=` for `:=`, a `//` comment, a string without its closing quote): the parser continues as
  if the Rung spelling had been written, so the statement is still checked;
- otherwise panic mode at statement level: the statement being read is dropped (kept as a
  syntax.Broken, so that the checker stays quiet about its names) and parsing resumes at the
  next statement keyword.
"""

import re

from lark import Token
from lark.exceptions import UnexpectedToken
from lark.parsers.lalr_analysis import Shift

from . import syntax as s
from .parse_errors import KEYWORD_TERMINALS, describe

MAX_SYNTAX_ERRORS = 50  # beyond this a file is not Rung at all; say so and stop
STATEMENT_KEYWORDS = ("program", "cycle", "input", "output", "var", "const", "timer", "counter")
STATEMENT_KEYWORDS += ("rung",)
_STATEMENT_TERMINALS = {KEYWORD_TERMINALS[k] for k in STATEMENT_KEYWORDS}
_DECLARING = {"input", "output", "var", "const", "timer", "counter"}
_NEXT_STATEMENT = set(STATEMENT_KEYWORDS) - {"program"}

# The source's words as the lexer sees them, enough to find statement keywords: strings and
# comments hide their words; `16#FF` and `T#5s` are literals, not comments.
_WORDS = re.compile(
    r"""
    [Tt]\#(?:\d+(?:ms|h|m|s)(?![A-Za-z_]))+
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | \d+\#[0-9A-Za-z_]+
  | "(?:[^"\\\n]|\\.)*"?
  | \#[^\n]*
  | \d+
  | [^A-Za-z0-9_"\#]+
  | .
""",
    re.X,
)
_LINE_START = re.compile(r"[ \t\f\v\r]*([A-Za-z_][A-Za-z0-9_]*)")


class Recovery:
    """The on_error handler for one parse of text; broken lists the dropped statements."""

    def __init__(self, text, reporter):
        self.text = text
        self.reporter = reporter
        self.broken = []
        self.errors = 0
        self.last_resume = -1
        self._boundary = None

    def __call__(self, exc):
        ip = exc.interactive_parser
        self.errors += 1
        if self.errors > MAX_SYNTAX_ERRORS:
            self.reporter.too_many_syntax_errors(describe_span(exc, self.text), MAX_SYNTAX_ERRORS)
            self._pop_statement(ip)
            _move_lexer(ip, self.text, len(self.text))
            return True
        problem = describe(exc, ip, self.text)
        problem.report(self.reporter)
        if problem.repair is not None and self._repair(ip, exc, problem.repair):
            return True
        self._resync(ip, exc)
        return True

    # ---- repairs ----------------------------------------------------------------------

    def _repair(self, ip, exc, repair):
        kind = repair[0]
        if kind == "replace":
            _, terminal, value, start, end = repair
            if not _feed(ip, self._token(terminal, value, start, end)):
                return False
            _move_lexer(ip, self.text, max(end, _lexer_pos(ip)))
            return True
        if kind == "replace_previous":
            _, terminal, value = repair
            prev = ip.parser_state.value_stack[-1]
            trial = ip.copy(deepcopy_values=False)
            trial.parser_state.state_stack.pop()
            trial.parser_state.value_stack.pop()
            keyword = self._token(terminal, value, prev.start_pos, prev.end_pos)
            if not (_feed(trial, keyword) and _feed(trial, exc.token)):
                return False
            _adopt(ip, trial)
            return True
        if kind == "skip":
            _, pos, pop_previous = repair
            if pop_previous:
                ip.parser_state.state_stack.pop()
                ip.parser_state.value_stack.pop()
            _move_lexer(ip, self.text, pos)
            return True
        if kind == "string":
            _, start, end = repair
            body = self.text[start:end].rstrip("\\")
            if not _feed(ip, self._token("STRING", body + '"', start, end)):
                return False
            _move_lexer(ip, self.text, end)
            return True
        raise AssertionError(kind)

    def _token(self, terminal, value, start, end):
        text = self.text
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        return Token(terminal, value, start, line, column, line, column + end - start, end)

    # ---- panic mode ---------------------------------------------------------------------

    def _resync(self, ip, exc):
        """Drop the statement being read and go on at the next statement keyword."""
        error_pos = _error_start(exc)
        dropped = self._pop_statement(ip)
        start = _first_pos(dropped)
        start = error_pos if start is None else min(start, error_pos)
        resume = None
        # a keyword at the start of the error's line that the broken statement swallowed as
        # a name (`rung: a and` then `rung: b -> q`: `rung` is a fine name after `and`)
        line_start = self.text.rfind("\n", 0, error_pos) + 1
        m = _LINE_START.match(self.text, line_start)
        # (`program` is left out: it is never welcome after the first statement)
        if m and m.group(1) in _NEXT_STATEMENT and start < m.start(1) <= error_pos:
            resume = m.start(1)
        elif _word_at(self.text, error_pos) in _NEXT_STATEMENT and start < error_pos:
            resume = error_pos  # the error is the next statement's keyword: start there
        if resume is None or resume <= self.last_resume:
            resume = self._next_keyword(max(_error_end(exc), self.last_resume + 1))
        self.last_resume = resume
        self._record(start, resume)
        _move_lexer(ip, self.text, resume)

    def _pop_statement(self, ip):
        """Pop the parser's stacks back to a state between statements; the popped values."""
        state = ip.parser_state
        if self._boundary is None:
            table = state.parse_conf.states
            self._boundary = {
                st
                for st, actions in table.items()
                if any(actions.get(t, (None,))[0] is Shift for t in _STATEMENT_TERMINALS)
            }
        dropped = []
        while len(state.state_stack) > 1 and state.state_stack[-1] not in self._boundary:
            state.state_stack.pop()
            dropped.append(state.value_stack.pop())
        dropped.reverse()
        return dropped

    def _next_keyword(self, pos):
        for m in _WORDS.finditer(self.text, pos):
            if m.group("word") in STATEMENT_KEYWORDS:
                return m.start()
        return len(self.text)

    def _record(self, start, end):
        words = [m.group("word") for m in _WORDS.finditer(self.text, start, end)]
        words = [w for w in words if w]
        keyword = words[0] if words and words[0] in STATEMENT_KEYWORDS else None
        declares = None
        if keyword in _DECLARING and len(words) > 1 and words[1] not in KEYWORD_TERMINALS:
            declares = words[1]
        names = {w for w in words if w not in KEYWORD_TERMINALS}
        self.broken.append(s.Broken(keyword, declares, names, _span_of(self.text, start)))


def _word_at(text, pos):
    m = _WORDS.match(text, pos)
    return m.group("word") if m else None


def describe_span(exc, text):
    """Where an error is, as a one-character span."""
    pos = _error_start(exc)
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return s.Span(line, column, line, column + 1)


def _span_of(text, pos):
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return s.Span(line, column, line, column + 1)


def _error_start(exc):
    tok = getattr(exc, "token", None)
    if isinstance(tok, Token) and tok.type != "$END" and tok.start_pos is not None:
        return tok.start_pos
    pos = getattr(exc, "pos_in_stream", None)
    if pos is not None:
        return pos
    return _lexer_pos(exc.interactive_parser)


def _error_end(exc):
    tok = getattr(exc, "token", None)
    if isinstance(tok, Token) and tok.type != "$END" and tok.end_pos is not None:
        return tok.end_pos
    return _error_start(exc) + 1


def _first_pos(values):
    """Start of the first token among values (tokens and trees), or None."""
    for value in values:
        while value is not None and not isinstance(value, Token):
            children = [c for c in getattr(value, "children", ()) if c is not None]
            value = children[0] if children else None
        if value is not None and value.start_pos is not None:
            return value.start_pos
    return None


def _feed(ip, token):
    """Feed token if the grammar takes it here (True); otherwise change nothing (False)."""
    trial = ip.copy(deepcopy_values=False)
    try:
        trial.feed_token(token)
    except UnexpectedToken:
        return False
    _adopt(ip, trial)
    return True


def _adopt(ip, trial):
    ip.parser_state.state_stack = trial.parser_state.state_stack
    ip.parser_state.value_stack = trial.parser_state.value_stack


def _lexer_pos(ip):
    return ip.lexer_thread.state.line_ctr.char_pos


def _move_lexer(ip, text, pos):
    """Make the lexer go on at text[pos:] (lark's LineCounter keeps position and line)."""
    counter = ip.lexer_thread.state.line_ctr
    here = counter.char_pos
    if pos >= here:
        counter.line += text.count("\n", here, pos)
    else:
        counter.line -= text.count("\n", pos, here)
    counter.char_pos = pos
    counter.line_start_pos = text.rfind("\n", 0, pos) + 1
    counter.column = pos - counter.line_start_pos + 1
