"""The shared pieces of format modules: safe XML, JSON errors with positions, atomic writes."""

from __future__ import annotations

import pytest

from limner.formats import base
from limner.formats.base import FormatError, Report, atomic_write, load_json, parse_xml

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<annotation>&lol2;</annotation>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>"""


@pytest.mark.parametrize("data, words", [(BOMB, "refused XML"), (EXTERNAL, "refused XML"), (b"<a><b></a>", "not well-formed XML")])
def test_xml_attacks_and_errors_are_refused_with_the_file(tmp_path, data, words):
    f = tmp_path / "ann.xml"
    f.write_bytes(data)
    with pytest.raises(FormatError) as e:
        parse_xml(f)
    assert "ann.xml" in e.value.detail and words in e.value.detail


def test_xml_error_names_the_line(tmp_path):
    f = tmp_path / "a.xml"
    f.write_bytes(b"<a>\n<b>\n</c>\n</a>")
    with pytest.raises(FormatError) as e:
        parse_xml(f)
    assert e.value.line == 3 and "a.xml:3" in e.value.detail


def test_plain_xml_parses(tmp_path):
    f = tmp_path / "a.xml"
    f.write_bytes(b"<annotation><object><name>cat</name></object></annotation>")
    assert parse_xml(f).getroot().find("object/name").text == "cat"


def test_json_error_names_line_and_column(tmp_path):
    f = tmp_path / "x.json"
    f.write_text('{\n  "images": [\n    {"id": 1,}\n  ]\n}')
    with pytest.raises(FormatError) as e:
        load_json(f)
    assert e.value.line == 3 and "x.json:3" in e.value.detail and "column" in e.value.detail


def test_atomic_write_leaves_no_partial_file(tmp_path):
    f = tmp_path / "out" / "a.txt"
    atomic_write(f, "one")
    with pytest.raises(TypeError):
        atomic_write(f, 123)  # type: ignore[arg-type]
    assert f.read_text() == "one"
    assert [p.name for p in f.parent.iterdir()] == ["a.txt"]


def test_report_summary_counts():
    r = Report("YOLO detect")
    r.drop("polygons written as their bounding boxes", 37)
    r.missing_images.append("a.jpg")
    assert r.summary() == ["YOLO detect: 37 polygons written as their bounding boxes", "YOLO detect: 1 images not found (e.g. a.jpg)"]


def test_unknown_xml_encoding_is_a_format_error(tmp_path):
    f = tmp_path / "odd.xml"
    f.write_bytes(b'<?xml version="1.0" encoding="klingon-8"?><a/>')
    with pytest.raises(FormatError) as e:
        parse_xml(f)
    assert "odd.xml" in e.value.detail and "not readable XML" in e.value.detail


def _pieces_doc(n):
    anns = []
    for i in range(n):
        a = {"id": i, "bbox": [i, 1.5, 2, 3], "name": ["plain", "a},{b", 'q"}]x', "}, {", "\\}]"][i % 5]}
        if i % 7 == 0:
            a["parts"] = [{"k": [1, {"z": []}]}, {"k": []}]  # "}]" and "},{" inside an element
        anns.append(a)
    return {"info": {"annotations": "not this one"}, "images": [{"id": 1, "x": [{"a": 1}]}], "annotations": anns,
            "categories": [{"id": 1, "name": "c"}, {"id": 2, "name": "}]"}]}


@pytest.mark.parametrize("indent", [False, True])
def test_json_pieces_read_the_array_a_piece_at_a_time(tmp_path, monkeypatch, indent):
    import json

    import orjson

    monkeypatch.setattr(base, "_PIECE", 200)
    monkeypatch.setattr(base, "_PIECES_FROM", 800)
    doc = _pieces_doc(300)
    f = tmp_path / "big.json"
    f.write_text(json.dumps(doc, indent=2 if indent else None))
    got = base.load_json_pieces(f, "annotations")
    assert isinstance(got["annotations"], base.JsonPieces) and len(got["annotations"].bounds) > 50
    assert {**got, "annotations": list(got["annotations"])} == orjson.loads(f.read_bytes())
    # laid out otherwise: parsed whole
    f.write_text(json.dumps({"annotations": [], **{k: v for k, v in doc.items() if k != "annotations"}}) + " " * 1000)
    assert base.load_json_pieces(f, "annotations")["annotations"] == []


def test_json_pieces_report_a_syntax_error_with_its_line(tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(base, "_PIECE", 200)
    monkeypatch.setattr(base, "_PIECES_FROM", 800)
    text = json.dumps(_pieces_doc(300), indent=1)
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if '"id": 150' in ln)
    lines[k] = lines[k].replace('"id": 150', '"id": 150 151')
    f = tmp_path / "bad.json"
    f.write_text("\n".join(lines))
    pieces = base.load_json_pieces(f, "annotations")["annotations"]
    with pytest.raises(base.FormatError, match=rf"bad.json:{k + 1}: not valid JSON"):
        list(pieces)


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def test_a_new_folder_appears_whole_or_not_at_all(tmp_path):
    from limner.formats.base import NewFolder

    target = tmp_path / "labels"
    with NewFolder(target) as f:
        f.write("train/a.txt", "0 0.5 0.5 0.1 0.1\n")
        f.write("train/b.txt", b"")
        f.write("val/c.txt", "x")
        assert not target.exists()  # nothing is seen before the end
    assert _tree(tmp_path) == ["labels", "labels/train", "labels/train/a.txt", "labels/train/b.txt", "labels/val",
                               "labels/val/c.txt"]
    assert (target / "train" / "a.txt").read_text() == "0 0.5 0.5 0.1 0.1\n"

    other = tmp_path / "other"
    with pytest.raises(RuntimeError):
        with NewFolder(other) as f:
            f.write("a.txt", "half")
            raise RuntimeError("the writer failed")
    assert not other.exists() and _tree(tmp_path)[0] == "labels" and len(_tree(tmp_path)) == 6  # no hidden folder left

    # into an existing folder: file by file, in place, the other files kept
    with NewFolder(target) as f:
        f.write("train/a.txt", "1 0.5 0.5 0.2 0.2\n")
        f.write("test/d.txt", "d")
    assert (target / "train" / "a.txt").read_text() == "1 0.5 0.5 0.2 0.2\n" and (target / "val" / "c.txt").exists()
    assert not [p for p in target.rglob(".*")]


def test_new_folders_commit_each_top_folder_together(tmp_path):
    from limner.formats.base import NewFolders

    with NewFolders(tmp_path / "voc") as w:
        w.write("Annotations/x.xml", "<annotation/>")
        w.write("SegmentationClass/x.png", b"\x89PNG")
        w.write("labelmap.txt", "background:0,0,0::\n")
    assert _tree(tmp_path / "voc") == ["Annotations", "Annotations/x.xml", "SegmentationClass", "SegmentationClass/x.png",
                                       "labelmap.txt"]
    with pytest.raises(ValueError):
        with NewFolders(tmp_path / "broken") as w:
            w.write("Annotations/x.xml", "<annotation/>")
            w.write("SegmentationClass/x.png", b"\x89PNG")
            raise ValueError("no")
    assert _tree(tmp_path / "broken") == []


def test_the_table_of_built_in_formats_is_what_the_modules_register():
    from limner.formats import registry

    registry._load()
    found: dict[str, set[str]] = {}
    for name, fmt in registry.FORMATS.items():
        fn = fmt.read or fmt.write
        module = fn.__module__.split(".")[2]
        if module in registry.BUILT_IN:
            found.setdefault(module, set()).add(name)
    assert found == {m: set(n) for m, n in registry.BUILT_IN.items()}
