"""Attributes: one declared on a label for each value a reader meets (neither LabelMe format has
an attribute schema: booleans become checkboxes, numbers numbers, the rest text), and LabelMe XML's
``<attributes>`` text (``a, k=v``) split into a dict, values typed, and joined from one, with
datumaro's backslash escapes."""

from __future__ import annotations

from limner.core.schema import Attribute, Label


def _declare(label: Label, name: str, value) -> None:
    """Give the label an attribute for a value a reader met (labelme has no attribute schema)."""
    for a in label.attributes:
        if a.name == name:
            return
    kind = "checkbox" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "text"
    label.attributes.append(Attribute(name, kind))


def _split_attrs(text: str) -> dict:
    out, cur, eq, i, n = {}, [], -1, 0, len(text)
    while i <= n:
        c = text[i] if i < n else ","
        if c == "\\" and i + 1 < n:
            cur.append(text[i + 1])
            i += 2
            continue
        if c == ",":
            if eq < 0:
                name = "".join(cur).strip()
                if name:
                    out[name] = True
            else:
                name, v = "".join(cur[:eq]).strip(), "".join(cur[eq:]).strip()
                if v.lower() in ("true", "false"):
                    val = v.lower() == "true"
                elif len(v) > 1 and v[0] == v[-1] == '"':
                    val = v[1:-1]
                else:
                    val = v
                    for t in (int, float):
                        try:
                            if str(t(v)) == v:
                                val = t(v)
                                break
                        except ValueError:
                            pass
                out[name] = val
            cur, eq = [], -1
        elif c == "=" and eq < 0:
            eq = len(cur)
        else:
            cur.append(c)
        i += 1
    return out


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("=", "\\=").replace('"', '\\"').replace(",", "\\,")


def _join_attrs(attrs: dict) -> str:
    out = []
    for k, v in attrs.items():
        if v is True:
            out.append(_esc(k))
        elif isinstance(v, bool):
            out.append(f"{_esc(k)}=false")
        elif isinstance(v, (int, float)):
            out.append(f"{_esc(k)}={v}")
        else:
            out.append(f"{_esc(k)}={_esc(str(v))}")
    return ", ".join(out)
