"""Composing a scenario file's YAML safely: PyYAML's SafeLoader with limits.

A scenario is plain data. The composer here refuses what has no place in it (tags other than
YAML's standard ones, merge keys) and bounds what could exhaust the machine: nesting depth
(the composer recurses once per level) and the size of the document once aliases are
expanded (each `*name` re-uses a whole subtree, so a few lines can stand for billions of
values: "billion laughs")."""

import re

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, SequenceNode

MAX_DEPTH = 50
MAX_VALUES = 1_000_000

_STANDARD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STANDARD + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_ALLOWED_TAGS.add(_STANDARD + "timestamp")  # implicit for dates; refused later as a value


class Refused(Exception):
    """Valid YAML that a scenario file does not accept; `mark` locates it."""

    def __init__(self, message, mark):
        super().__init__(message)
        self.message = message
        self.mark = mark


def _shown_tag(tag):
    if tag.startswith(_STANDARD):
        return "!!" + tag[len(_STANDARD) :]
    return tag


class ScenarioLoader(yaml.SafeLoader):
    """SafeLoader whose composer checks tags, merge keys, depth and alias expansion."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._open = set()  # anchors whose node is still being composed
        self._values = {}  # id(node) -> number of values once aliases are expanded

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            if event.anchor in self._open:
                raise Refused(
                    f"the alias `*{event.anchor}` is inside the value it names", event.start_mark
                )
            return super().compose_node(parent, index)
        event = self.peek_event()
        if self._depth >= MAX_DEPTH:
            raise Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)
        self._check(node)
        return node

    def _check(self, node):
        if node.tag == _STANDARD + "merge":
            raise Refused(
                "merge keys (`<<`) are not supported in scenario files: write the keys out",
                node.start_mark,
            )
        if node.tag not in _ALLOWED_TAGS:
            raise Refused(
                f"the YAML tag `{_shown_tag(node.tag)}` is not supported in scenario files "
                "(values are plain numbers, strings, true/false, lists and mappings)",
                node.start_mark,
            )
        values = 1
        if isinstance(node, SequenceNode):
            values += sum(self._values[id(child)] for child in node.value)
        elif isinstance(node, MappingNode):
            values += sum(self._values[id(k)] + self._values[id(v)] for k, v in node.value)
        if values > MAX_VALUES:
            raise Refused(
                f"this value expands to more than {MAX_VALUES:,} values through aliases "
                "(`*name`); a scenario file may hold at most that many",
                node.start_mark,
            )
        self._values[id(node)] = values


# YAML 1.1 reads `1e-3` and `2.5e3` as strings (it wants `2.5e+3`); a number is meant.
ScenarioLoader.add_implicit_resolver(
    _STANDARD + "float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def compose(text):
    """The root node of one YAML document (None if empty); raises yaml.YAMLError or Refused."""
    loader = ScenarioLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()
