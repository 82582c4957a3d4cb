"""CVAT XML 1.1: "CVAT for images" (``<image>`` elements) and "CVAT for video" (``<track>`` elements).

One ``annotations.xml`` (CVAT's own export) or several ``<subset>.xml`` files (datumaro's layout),
with images under ``images/`` (``images/<subset>/`` for a project export). The spec is
docs.cvat.ai "XML annotation format"; the mask RLE and rotations follow CVAT's own code
(``dataset_manager/formats/cvat.py`` and ``transformations.py``):

- ``<mask rle="3, 5, 7" left top width height>``: run lengths of alternating 0s and 1s, starting with
  0s, over the ``width`` x ``height`` window, row by row. Converted to and from full-image COCO RLE.
- ``<box ... rotation="deg">``: turned clockwise about the box centre -> ``rotated_box``.
- ``<ellipse cx cy rx ry rotation>`` -> ``ellipse``; ``<skeleton>`` with one ``<points label=sub>`` per
  sublabel -> ``skeleton`` (point order = sublabel order in ``<meta>``, edges from the label's svg).
- ``occluded="1"`` becomes the checkbox attribute ``occluded`` (declared on the label when met);
  ``source``, ``z_order`` and ``group_id`` map to the Shape fields; ``<track id>`` to ``track_id``.

Files over a few MB are read with defusedxml's ``iterparse``, one top-level element at a time.

The package: :mod:`~limner.formats.cvat.mask_rle` (the mask RLE), :mod:`~limner.formats.cvat.values`
(numbers, attribute values and point lists as text), :mod:`~limner.formats.cvat.meta` (the labels of
``<meta>`` read and written), :mod:`~limner.formats.cvat.shapes` (shape elements read and written),
:mod:`~limner.formats.cvat.reading` (a file's images and tracks), :mod:`~limner.formats.cvat.writing`
(the XML of CVAT for images and for video) and :mod:`~limner.formats.cvat.api` (read, write, detect
and the registration of the two formats). This module re-exports their names; ``STREAM_ABOVE`` (the
size above which a file is streamed) is :mod:`~limner.formats.cvat.reading`'s.
"""

from limner.formats.cvat.api import detect, read, write
from limner.formats.cvat.mask_rle import cvat_mask_to_rle, rle_to_cvat_mask

# also reached as an attribute of this package: the point-list writer, which the tests use
from limner.formats.cvat.values import _pts_str  # noqa: F401

__all__ = ["cvat_mask_to_rle", "detect", "read", "rle_to_cvat_mask", "write"]
