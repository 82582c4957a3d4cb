"""The labeling config (XML) Label Studio needs beside the tasks: one control per kind of shape the
dataset uses with its labels and colours, choices for the tags, and a per-region control for each
attribute (choices, number or text area by its values)."""

from __future__ import annotations

from limner.core.dataset import Dataset
from limner.formats.labelstudio.writing import _FROM


def label_config(ds: Dataset) -> str:
    """A Label Studio labeling config (XML) with one control per kind the dataset uses."""
    from xml.sax.saxutils import quoteattr

    info = ds.info.get("labelstudio", {})
    names, to = info.get("from_names") or {}, info.get("to_name") or "image"
    kinds, region_labels, tag_labels, attrs = set(), {}, {}, {}
    for item in ds.items:
        for s in item.shapes:
            kinds.add(s.kind)
            (tag_labels if s.kind == "tag" else region_labels)[s.label] = True
            for a, v in s.attributes.items():
                if s.kind != "tag":
                    attrs.setdefault(a, v)
    color = {lb.name: lb.color for lb in ds.schema}
    tags = {"box": "RectangleLabels", "rotated_box": "RectangleLabels", "polygon": "PolygonLabels", "points": "KeyPointLabels",
            "skeleton": "KeyPointLabels", "ellipse": "EllipseLabels", "mask": "BrushLabels"}  # fmt: skip
    labels = "".join(f"<Label value={quoteattr(n)} background={quoteattr(color.get(n, '#1f77b4'))}/>" for n in region_labels)
    out = [f'<View>\n  <Image name={quoteattr(to)} value="${info.get("data_key") or "image"}"/>']
    for tag in dict.fromkeys(tags[k] for k in sorted(kinds) if k in tags):
        t = tag.lower()
        extra = ' canRotate="true"' if tag == "RectangleLabels" else ""
        out.append(f"  <{tag} name={quoteattr(names.get(t, _FROM[t]))} toName={quoteattr(to)}{extra}>{labels}</{tag}>")
    if tag_labels:
        choices = "".join(f"<Choice value={quoteattr(n)}/>" for n in tag_labels)
        name = quoteattr(names.get("choices", "choice"))
        out.append(f'  <Choices name={name} toName={quoteattr(to)} choice="multiple">{choices}</Choices>')
    for a, v in attrs.items():
        common = f"name={quoteattr(a)} toName={quoteattr(to)} perRegion=\"true\""
        if isinstance(v, bool):
            out.append(f'  <Choices {common}><Choice value="true"/><Choice value="false"/></Choices>')
        elif isinstance(v, (int, float)):
            out.append(f"  <Number {common}/>")
        else:
            out.append(f"  <TextArea {common}/>")
    return "\n".join(out) + "\n</View>\n"
