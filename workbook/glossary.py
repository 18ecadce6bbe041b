"""The glossary: terms, definitions and symbols, read from `glossary.toml`.

Each term names the lessons that use it; a term is *unlocked* once the learner has
reached (attempted or passed) any of those lessons, so the glossary grows with them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from workbook.errors import CourseFormatError, WorkbookError
from workbook.filestamp import Stamp, reuse


@dataclass(frozen=True)
class Term:
    key: str
    name: str
    definition: str
    symbol: str = ""
    equation: str = ""
    aliases: tuple[str, ...] = ()


_read: dict[Path, tuple[Stamp, dict[str, Term]]] = {}


def load_glossary(course_dir: Path) -> dict[str, Term]:
    """The course's terms by key; a glossary read before in this process is reused
    while its file is unchanged (see `filestamp`)."""
    path = course_dir / "glossary.toml"
    return dict(reuse(_read, path, [path], lambda: _read_glossary(path)))


def _read_glossary(path: Path) -> dict[str, Term]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise CourseFormatError(f"{path}: {exc}") from exc
    terms = {}
    for key, entry in data.items():
        if "name" not in entry or "definition" not in entry:
            raise CourseFormatError(f"{path}: term {key!r} needs 'name' and 'definition'")
        terms[key] = Term(
            key=key,
            name=entry["name"],
            definition=entry["definition"].strip(),
            symbol=entry.get("symbol", ""),
            equation=entry.get("equation", ""),
            aliases=tuple(entry.get("aliases", ())),
        )
    return terms


def find_term(terms: dict[str, Term], query: str) -> Term:
    """Match a key, a name or an alias, case-insensitively, then a unique prefix."""
    wanted = query.strip().lower()
    for term in terms.values():
        names = {
            term.key.lower(),
            term.name.lower(),
            *(a.lower() for a in term.aliases),
            *(symbol.strip().lower() for symbol in term.symbol.split(",") if symbol.strip()),
        }
        if wanted in names:
            return term
    prefixed = [t for t in terms.values() if t.name.lower().startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    raise WorkbookError(f"no glossary term {query!r} (see `workbook glossary`)")


def term_matches(term: Term, query: str, *, names_only: bool = False) -> bool:
    """Whether `query` occurs (any case) in the term's name, key, symbol or aliases, or,
    unless `names_only` (a locked term must not give its definition away), in its
    definition or equation. An empty query matches everything."""
    wanted = query.strip().lower()
    if not wanted:
        return True
    fields = [term.key, term.name, term.symbol, *term.aliases]
    if not names_only:
        fields += [term.definition, term.equation]
    return any(wanted in field.lower() for field in fields)


def term_rank(term: Term, query: str, *, names_only: bool = False) -> int | None:
    """How well `query` matches `term`, lower first; None when it does not match.

    0: the key, name, a symbol or an alias *is* the query (searching "σ" puts Sigmoid
    first, not the three gates whose equations use σ); 1: a name starts with it;
    2: a name, symbol or alias contains it; 3: only the definition or equation does."""
    wanted = query.strip().lower()
    if not wanted:
        return 0
    names = [term.key, term.name, *term.aliases, *(s.strip() for s in term.symbol.split(","))]
    names = [name.lower() for name in names if name.strip()]
    if wanted in names:
        return 0
    if any(name.startswith(wanted) for name in names):
        return 1
    if any(wanted in name for name in names) or wanted in term.symbol.lower():
        return 2
    if term_matches(term, query, names_only=names_only):
        return 3
    return None
