"""The registration of the two LabelMe formats ("labelme", "labelme_xml") with
:mod:`limner.formats.registry`, each with its reader, writer and detector."""

from __future__ import annotations

from limner.formats.labelme.json_files import detect, read, write
from limner.formats.labelme.xml_files import detect_xml, read_xml, write_xml
from limner.formats.registry import Format, register

register(Format("labelme", "LabelMe JSON (one file per image, wkentaro/labelme)", read, write, detect))
register(Format("labelme_xml", "LabelMe XML (MIT LabelMe 3.0, one XML per image)", read_xml, write_xml, detect_xml))
