"""docs/formats.md documents every registered format: one ``## <name>`` section each, and no
section for a format that does not exist (a rename must update the page)."""

from __future__ import annotations

import re
from pathlib import Path

from limner import formats

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def _headings() -> list[str]:
    return re.findall(r"^## (\S+)\s*$", DOC.read_text(encoding="utf-8"), flags=re.M)


def test_every_registered_format_has_a_section():
    missing = [n for n in formats.names() if n not in _headings()]
    assert missing == [], f"docs/formats.md has no '## <name>' section for {missing}"


def test_every_section_names_a_registered_format():
    extra = [h for h in _headings() if h not in formats.names()]
    assert extra == [], f"docs/formats.md documents formats that are not registered: {extra}"


def test_sections_are_not_repeated():
    h = _headings()
    assert len(h) == len(set(h))
