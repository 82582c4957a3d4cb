"""The shared pieces of format modules: safe XML, JSON errors with positions, atomic writes."""

from __future__ import annotations

import pytest

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
