"""Reads UCI files back into sections so tests can assert on them.

UCI's file syntax is shell-like (`config TYPE ['NAME']`, `option KEY 'VALUE'`,
`list KEY 'VALUE'`), so shlex tokenises it as uci's own lexer would; anything else on a
line is an error here, as it is for `uci import`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field


@dataclass
class Section:
    type: str
    name: str | None
    options: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        return self.options.get(key)


def read_uci(text: str) -> list[Section]:
    sections: list[Section] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        keyword, args = words[0], words[1:]
        if keyword == "config" and len(args) in (1, 2):
            sections.append(Section(args[0], args[1] if len(args) == 2 else None))
        elif keyword in ("option", "list") and len(args) == 2 and sections:
            key, value = args
            if keyword == "option":
                assert key not in sections[-1].options, f"line {number}: option {key} twice"
                sections[-1].options[key] = value
            else:
                sections[-1].lists.setdefault(key, []).append(value)
        else:
            raise ValueError(f"line {number}: not UCI: {line!r}")
    return sections


def of_type(sections: list[Section], kind: str) -> list[Section]:
    return [s for s in sections if s.type == kind]


def named(sections: list[Section], kind: str, name: str) -> Section:
    found = [s for s in sections if s.type == kind and s.name == name]
    assert len(found) == 1, f"{len(found)} sections {kind} {name!r}"
    return found[0]
