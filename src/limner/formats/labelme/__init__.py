"""LabelMe JSON (wkentaro/labelme): one ``<image>.json`` beside each image.

Each file holds ``shapes`` (``label``, ``points``, ``group_id``, ``shape_type``, ``flags``,
``description``, ``mask``), the image-level ``flags``, ``imagePath`` (relative to the JSON file),
``imageData`` (optional base64 image), ``imageHeight`` and ``imageWidth``. Shape types, as labelme's
own ``_shape.py`` and ``utils/shape.py`` define them:

- ``rectangle`` (2 corners) -> box; ``oriented_rectangle`` (4 corners, p0->p1 along the width) ->
  rotated_box; ``polygon`` -> polygon; ``line`` / ``linestrip`` -> polyline; ``point`` / ``points`` ->
  points; ``circle`` (centre, a point on the circle) -> ellipse with rx = ry = radius;
  ``mask`` (``points`` = top-left and bottom-right pixel of the patch, ``mask`` = base64 PNG of the
  patch, placed at the rounded top-left corner) -> mask as full-image COCO RLE.
- Image ``flags`` that are true become tags (all flags are kept in ``Item.metadata["flags"]``);
  shape ``flags`` become checkbox attributes, ``description`` a text attribute.
- Limner fields labelme has no key for (other attributes, z-order, track id, source, confidence)
  are written as extra shape keys, which labelme keeps (``other_data``) and this reader reads back.

The package: :mod:`~limner.formats.labelme.attributes` (attributes declared on labels as a reader
meets them, and LabelMe XML's attribute text), :mod:`~limner.formats.labelme.masks` (mask shapes as
base64 PNG patches), :mod:`~limner.formats.labelme.convert` (a labelme JSON object <-> an Item),
:mod:`~limner.formats.labelme.json_files` ("labelme": the JSON files found, read, written and
recognised), :mod:`~limner.formats.labelme.xml_files` ("labelme_xml": MIT LabelMe XML, one file per
image, read, written and recognised) and :mod:`~limner.formats.labelme.api` (the registration of the
two formats). This module re-exports their names.
"""

# imported for its registration of the two formats
from limner.formats.labelme import api  # noqa: F401
from limner.formats.labelme.convert import dataset_to_labelme, item_to_labelme, labelme_to_item
from limner.formats.labelme.json_files import detect, read, write
from limner.formats.labelme.xml_files import detect_xml, read_xml, write_xml

__all__ = [
    "dataset_to_labelme",
    "detect",
    "detect_xml",
    "item_to_labelme",
    "labelme_to_item",
    "read",
    "read_xml",
    "write",
    "write_xml",
]
