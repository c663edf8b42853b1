"""The practitioner's phrases for a policy's facts, answers and decisions (``phrases.yaml``
beside ``facts.yaml``): the vocabulary the scenarios are written in.

A scenario step is one of these phrases, so a phrase means the same in
every feature, and a new fact or answer needs a line here, never code: the
scenarios' steps are generated from this file when they run. Every entry is
checked against the policy (a fact or answer it does not have, a phrase
given twice) and reported as file:line, as the policy's own files are.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infoshare.engine.policy.conditions import show, suggest
from infoshare.engine.policy.model import Policy
from infoshare.engine.policy.problems import PolicyError, Problem
from infoshare.engine.policy.yamlsource import Source, read_or_report

PHRASES_FILE = "phrases.yaml"
WHETHER = "whether"
NONE = "none"  # a list fact's empty answer
SECTIONS = ("facts", "sentences", "decisions", "conditions")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass
class Phrases:
    """Phrase -> meaning, by kind; `source` keeps the lines for messages."""

    source: Source
    statements: dict[str, tuple[str, Any]] = field(default_factory=dict)  # phrase -> (fact, answer)
    fragments: dict[str, dict[str, Any]] = field(default_factory=dict)  # fact in a sentence -> phrase -> answer
    sentences: list[str] = field(default_factory=list)
    whether: dict[str, str] = field(default_factory=dict)  # phrase -> fact
    decisions: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, str] = field(default_factory=dict)

    def where(self, *path: Any) -> str:
        return f"{self.source.name}:{self.source.line(path)}"

    def nearest(self, text: str, known: list[str]) -> list[str]:
        folded = {k.casefold(): k for k in known}
        return [folded[m] for m in difflib.get_close_matches(text.casefold(), list(folded), n=3, cutoff=0.5)]

    def unknown(self, text: str, kind: str = "statement") -> str:
        """Why `text` is not a phrase: the nearest phrases, and where a new one is declared."""
        section: tuple[str, ...]
        if kind == "decision":
            known, section = list(self.decisions), ("decisions",)
        elif kind == "condition":
            known, section = list(self.conditions), ("conditions",)
        elif kind == "whether":
            known, section = list(self.whether), ("facts",)
        else:
            known = list(self.statements) + self.sentences
            section = ("facts",)
        close = self.nearest(text, known)
        if close and kind in ("statement", "whether"):
            fact = self.statements[close[0]][0] if close[0] in self.statements else self.whether.get(close[0])
            if fact:
                section = ("facts", fact)
        nearest = f"; the nearest are: {'; '.join(repr_(c) for c in close)}" if close else ""
        return (
            f"{repr_(text)} is not a phrase of the vocabulary{nearest}. "
            f"Declare a new one in {self.where(*section)} (under the fact and answer it means)"
        )

    def decision(self, text: str) -> str:
        found: str | None = _lookup(self.decisions, text)
        assert found is not None, self.unknown(text, "decision")
        return found

    def condition(self, text: str) -> str:
        found: str | None = _lookup(self.conditions, text)
        assert found is not None, self.unknown(text, "condition")
        return found

    def facts_named(self, words: str) -> list[str]:
        """ "whether a crime is suspected and who would receive the information" -> the facts named."""
        out = []
        for part in words.split(" and "):
            found = _lookup(self.whether, part)
            assert found is not None, self.unknown(part, "whether")
            out.append(found)
        return out


def repr_(text: str) -> str:
    return f"“{text}”"


def _lookup(table: dict[str, Any], text: str) -> Any:
    folded = {k.casefold(): v for k, v in table.items()}
    return folded.get(text.strip().casefold())


def _shown(file: Path) -> str:
    """The file as a reader finds it: relative to here when it is below here."""
    path = file.resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def load_phrases(policy: Policy, directory: Path) -> Phrases:
    """Read and check `directory`/phrases.yaml against `policy`; PolicyError lists every problem."""
    file = directory / PHRASES_FILE
    problems: list[Problem] = []
    if not file.is_file():
        raise PolicyError(
            [Problem(PHRASES_FILE, 1, f"the scenarios need {PHRASES_FILE} beside facts.yaml in {directory}")]
        )
    source = read_or_report(file, _shown(file), problems)
    if source is None:
        raise PolicyError(problems)
    data = source.data if isinstance(source.data, dict) else {}
    for key in data:
        if key not in SECTIONS:
            problems.append(source.problem((key,), f"unknown section `{key}`; the sections are: {', '.join(SECTIONS)}"))
    phrases = Phrases(source)
    phrases.sentences = [str(s) for s in data.get("sentences") or []]
    in_sentences = {name for s in phrases.sentences for name in PLACEHOLDER.findall(s)}
    facts = {f.name: f for f in policy.case_facts if f.type != "items"}
    seen: dict[str, tuple[Any, ...]] = {}

    def phrase_list(path: tuple[Any, ...], raw: Any) -> list[str]:
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for index, text in enumerate(items):
            if not isinstance(text, str) or not text.strip():
                problems.append(source.problem(path, "give each phrase as text, e.g. [consent has been given]"))
                continue
            text = " ".join(text.split())
            if text.casefold() in seen:
                problems.append(
                    source.problem(
                        path + (index,),
                        f"{repr_(text)} is already a phrase at line {source.line(seen[text.casefold()])}",
                    )
                )
                continue
            seen[text.casefold()] = path + (index,)
            out.append(text)
        return out

    for name, answers in (data.get("facts") or {}).items():
        fact = facts.get(name)
        if fact is None:
            problems.append(
                source.problem(
                    ("facts", name),
                    f"unknown fact `{name}`{suggest(name, list(facts))}; the facts are: {', '.join(facts)}",
                )
            )
            continue
        allowed = {show(v): v for v in fact.allowed_values()}
        for key, raw in (answers or {}).items():
            path = ("facts", name, key)
            if key == WHETHER:
                phrases.whether.update((p, name) for p in phrase_list(path, raw))
                continue
            if key == NONE and fact.type == "choices":
                value: Any = []
            elif show(key) in allowed:
                value = allowed[show(key)]
            else:
                problems.append(
                    source.problem(
                        path,
                        f"`{show(key)}` is not an answer of `{name}`{suggest(show(key), list(allowed))}; its answers are: "
                        f"{', '.join(allowed)}{', none' if fact.type == 'choices' else ''}, and `whether` names the fact",
                    )
                )
                continue
            for phrase in phrase_list(path, raw):
                if name in in_sentences:
                    phrases.fragments.setdefault(name, {})[phrase] = value
                else:
                    phrases.statements[phrase] = (name, value)
    for index, sentence in enumerate(phrases.sentences):
        for name in PLACEHOLDER.findall(sentence):
            if name not in phrases.fragments:
                problems.append(
                    source.problem(("sentences", index), f"`{{{name}}}` is not a fact with phrases under `facts:`")
                )
    outcomes = policy.outcomes["decision"].precedence
    for key, raw in (data.get("decisions") or {}).items():
        if key not in outcomes:
            problems.append(
                source.problem(("decisions", key), f"`{key}` is not a decision{suggest(key, list(outcomes))}")
            )
            continue
        phrases.decisions.update((p, key) for p in phrase_list(("decisions", key), raw))
    for key, raw in (data.get("conditions") or {}).items():
        if key not in policy.conditions:
            problems.append(
                source.problem(
                    ("conditions", key), f"`{key}` is not a condition{suggest(key, list(policy.conditions))}"
                )
            )
            continue
        phrases.conditions.update((p, key) for p in phrase_list(("conditions", key), raw))
    if problems:
        raise PolicyError(problems)
    return phrases
