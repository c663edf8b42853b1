"""Read a YAML file into plain Python data while remembering where each value came from.

Policy owners need "file:line" in every message, so positions are kept for
every mapping key and list item, addressed by the path of keys and indexes
that leads to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from infoshare.engine.policy.problems import Problem

Path_ = tuple[Any, ...]


@dataclass
class Source:
    """One policy file: its data, its name for messages, and line numbers by path."""

    name: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """The line of `path`, or of its nearest enclosing value that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.name, self.line(path), message)


def read_yaml(file: Path, name: str) -> Source:
    """Parse `file`; a syntax error becomes a Problem raised as YamlSyntaxError."""
    return parse_yaml(file.read_bytes(), name)


def parse_yaml(data: bytes, name: str) -> Source:
    """Parse the text of a file called `name` (read from disk or from the store of policy versions)."""
    yaml = YAML(typ="rt", pure=True)
    try:
        raw = yaml.load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise YamlSyntaxError(Problem(name, 1, "the file is not UTF-8 text; save it as UTF-8")) from None
    except MarkedYAMLError as err:
        raise YamlSyntaxError(syntax_problem(err, data.decode("utf-8"), name)) from None
    except YAMLError as err:
        raise YamlSyntaxError(Problem(name, 1, f"YAML syntax error: {err}")) from None
    source = Source(name=name, data=None, lines={(): 1})
    source.data = _plain(raw, (), source.lines)
    return source


def read_or_report(file: Path | bytes, name: str, problems: list[Problem]) -> Source | None:
    """The Source of a file (a path, or its bytes), or None with its syntax error added to `problems`."""
    try:
        return read_yaml(file, name) if isinstance(file, Path) else parse_yaml(file, name)
    except YamlSyntaxError as err:
        problems.append(err.problem)
        return None


def syntax_problem(err: MarkedYAMLError, text: str, name: str) -> Problem:
    """The parser's complaint in a policy owner's words, at its line, with a caret under the column."""
    opened = err.context_mark
    starts_there = opened is not None and (
        "simple key" in (err.context or "") or "quoted scalar" in (err.context or "")
    )
    mark = (opened if starts_there else err.problem_mark) or opened
    line, column = (mark.line, mark.column) if mark is not None else (0, 0)
    lines = text.splitlines() or [""]
    if line >= len(lines):  # the file ended first: point at its last character
        line, column = len(lines) - 1, max(len(lines[-1].rstrip()) - 1, 0)
    here = lines[line]
    problem, context = err.problem or "", err.context or ""
    if "'\\t'" in problem or "\t" in here[: column + 1]:
        column = here.index("\t") if "\t" in here else column
        message = "a tab is used for indentation here; YAML indents with spaces only: replace the tab with spaces"
    elif "expected <block end>" in problem or "bad indentation" in problem:
        indent = len(here) - len(here.lstrip(" "))
        message = (
            f"this line is indented by {indent} spaces, which lines up with no entry above it; indent it "
            "exactly as far as the entries it belongs with (in a list, a rule's keys line up under the "
            "first key after `- `)"
        )
    elif "mapping values are not allowed" in problem:
        message = 'a second `: ` on one line; text that contains `: ` must be in quotes, e.g. because: "Consent: given"'
    elif "could not find expected ':'" in problem:
        message = "this line is not `key: value`; add the colon after the key, or put the text in quotes"
    elif "duplicate key" in problem:
        key = problem.split('"')[1] if '"' in problem else "this key"
        message = f"`{key}` is given twice here; keep one"
    elif "flow sequence" in context or "flow mapping" in context or "<stream end>" in problem:
        closing = "}" if "mapping" in context else "]"
        where = f" (opened on line {opened.line + 1})" if opened is not None and opened.line < line else ""
        message = f"a `[` or `{{` list is not closed{where}; add `{closing}`, or write the list one `- item` a line"
    elif "quoted scalar" in context:
        message = "text in quotes that starts here is never closed; add the closing quote"
    else:
        message = (
            "this line cannot be read; check the indentation (spaces only), that each entry is "
            "`key: value`, and that text containing `: ` or ` #` is in quotes"
        )
    excerpt = f"    {here.replace(chr(9), '→')}\n    {' ' * min(column, len(here))}^"
    return Problem(name, line + 1, message, excerpt)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def _plain(node: Any, path: Path_, lines: dict[Path_, int]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            key_line = node.lc.key(key)[0] + 1
            lines[path + (key,)] = key_line
            out[key] = _plain(value, path + (key,), lines)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for index, value in enumerate(node):
            lines[path + (index,)] = node.lc.item(index)[0] + 1
            out_list.append(_plain(value, path + (index,), lines))
        return out_list
    if isinstance(node, str):
        return str(node)
    return node
