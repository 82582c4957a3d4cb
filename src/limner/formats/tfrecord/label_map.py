"""``label_map.pbtxt``, TF OD API's protobuf-text label map: its file name, a small tokenizer and
parser of its ``item { id: 1 name: 'cat' display_name: 'Cat' }`` entries (nested messages skipped,
errors naming the file and line), and the writer of one from label ids."""

from __future__ import annotations

import re
from pathlib import Path

from limner.formats.base import FormatError

LABEL_MAP = "label_map.pbtxt"


_TOKEN = re.compile(
    r"""(?P<s>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|(?P<p>[{}:\[\],;<>])|(?P<w>[^\s{}:\[\],;<>'"#]+)"""
)
_SPACE = re.compile(r"(?:\s+|#[^\n]*)+")


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse_label_map(text: str, path: Path | str = LABEL_MAP) -> list[dict]:
    """Items of a protobuf-text label map (``item { id: 1 name: 'cat' display_name: 'Cat' }``),
    as ``{"id", "name", "display_name"?}`` in file order. Nested messages (keypoints, ...) are
    skipped. Errors name the file and line."""
    tokens: list[tuple[str, str, int]] = []
    pos, line, n = 0, 1, len(text)
    while True:
        m = _SPACE.match(text, pos)
        if m:
            line += text.count("\n", pos, m.end())
            pos = m.end()
        if pos >= n:
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FormatError(path, f"unexpected character {text[pos]!r}", line=line)
        tokens.append((m.lastgroup, m.group(m.lastgroup) if m.lastgroup != "s" else _unquote(m.group()), line))
        pos = m.end()
    items: list[dict] = []
    i = 0

    def expect_open(j: int) -> int:
        if j < len(tokens) and tokens[j][1] == ":":
            j += 1
        if j >= len(tokens) or tokens[j][1] != "{":
            ln = tokens[j][2] if j < len(tokens) else line
            raise FormatError(path, "expected '{' to open a message", line=ln)
        return j + 1

    def skip_message(j: int) -> int:
        depth = 1
        while j < len(tokens) and depth:
            if tokens[j][1] == "{" and tokens[j][0] == "p":
                depth += 1
            elif tokens[j][1] == "}" and tokens[j][0] == "p":
                depth -= 1
            j += 1
        if depth:
            raise FormatError(path, "a message is not closed ('}' missing)", line=line)
        return j

    while i < len(tokens):
        kind, word, ln = tokens[i]
        if kind != "w":
            raise FormatError(path, f"expected a field name, got {word!r}", line=ln)
        if word != "item":
            i += 1
            if i < len(tokens) and tokens[i][1] == ":" and i + 1 < len(tokens) and tokens[i + 1][1] != "{":
                i += 2
            else:
                i = skip_message(expect_open(i))
            continue
        i = expect_open(i + 1)
        item: dict = {"line": ln}
        while True:
            if i >= len(tokens):
                raise FormatError(path, "an item is not closed ('}' missing)", line=ln)
            k, w, l2 = tokens[i]
            if k == "p" and w == "}":
                i += 1
                break
            if k == "p" and w in ",;":
                i += 1
                continue
            if k != "w":
                raise FormatError(path, f"expected a field name, got {w!r}", line=l2)
            if i + 1 < len(tokens) and tokens[i + 1][1] == ":" and i + 2 < len(tokens) and tokens[i + 2][1] != "{":
                vk, value, _ = tokens[i + 2]
                if w == "id":
                    try:
                        item["id"] = int(value, 0)
                    except ValueError:
                        raise FormatError(path, f"id must be an integer, got {value!r}", line=l2) from None
                elif w in ("name", "display_name"):
                    item[w] = value
                i += 3
            else:
                i = skip_message(expect_open(i + 1))
        if "id" not in item or not (item.get("name") or item.get("display_name")):
            raise FormatError(path, "an item needs an id and a name", line=ln)
        items.append(item)
    return items


def _quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def format_label_map(ids: dict[str, int], display_names: dict[str, str] | None = None) -> str:
    display_names = display_names or {}
    out = []
    for name, i in sorted(ids.items(), key=lambda kv: kv[1]):
        extra = f"  display_name: {_quote(display_names[name])}\n" if name in display_names else ""
        out.append(f"item {{\n  id: {i}\n  name: {_quote(name)}\n{extra}}}\n")
    return "\n".join(out)
