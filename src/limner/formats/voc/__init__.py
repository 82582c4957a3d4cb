"""Pascal VOC: Annotations/*.xml, SegmentationClass/ and SegmentationObject/ PNGs, ImageSets lists.

Layout::

    Annotations/<id>.xml              one per image: size, objects with bndbox, parts, actions
    JPEGImages/<id>.jpg
    SegmentationClass/<id>.png        indexed PNG, the VOC palette: index = class, 0 background, 255 void
    SegmentationObject/<id>.png       index = instance: the n-th <object> of the XML
    ImageSets/Main/<subset>.txt       ids per subset (also Segmentation/, Action/, Layout/)
    ImageSets/Main/<label>_<subset>.txt   "<id> 1|0|-1": image-level presence of a class
    labelmap.txt                      datumaro's extension: name:r,g,b:parts:actions per line

Coordinates. VOC numbers pixels from 1 and its boxes include both end pixels: ``xmin=1, xmax=3``
covers the first three pixel columns. In Limner a pixel ``i`` covers ``[i, i+1)`` from 0, so that box
is ``x=0, w=3``: reading gives ``x = xmin - 1, w = xmax - xmin + 1`` and writing the inverse,
``xmin = x + 1, xmax = x + w`` (rounded to whole pixels unless ``round_coordinates=False``, and
clipped to the image). datumaro reads ``x = xmin, w = xmax - xmin``: boxes differ from its by one
pixel in position and size.

Reading. Each ``<object>`` is a box with attributes: ``pose`` (kept unless "Unspecified"),
``truncated``/``difficult``/``occluded`` (kept when 1), each ``<actions>`` child (a checkbox), the
``<point>`` as ``point_x``/``point_y``, datumaro's ``<attributes><attribute><name/><value/>`` and any
other scalar child. ``<part>`` children become boxes whose label has the object's label as parent,
sharing the object's group_id. A SegmentationObject instance ``n`` becomes a mask grouped with the
n-th object (label from the SegmentationClass pixels under it, else the object's); SegmentationClass
pixels of a class not covered by any instance become one mask per class (no group). Class lists
give tags for the classes present (1) in an image that has no object of that class. An item's
subset is the smallest list naming it (``train`` rather than ``trainval``). Without labelmap.txt the
PNG indices and colours are VOC's 21 classes.

Writing ("voc": everything; "voc_detection": XML only; "voc_segmentation": PNGs only): every shape
with an area becomes an object (box: its bndbox; polygon, mask, ellipse, rotated box: their bounding
box, and their pixels in the PNGs), shapes of one group become one object (a box and a mask of one
label), with ``<part>`` for members whose label's parent is the object's label. labelmap.txt lists
background and the labels with their palette colours; PNG indices are VOC's own when every label is
a VOC class, else schema order from 1 (254 at most; 255 is void). Every object gets ``pose``,
``truncated`` and ``difficult`` (VOC's defaults when unset: its evaluation code reads them),
``occluded`` when set, actions (the label's, from ``dataset.info["voc"]["actions"]``) in
``<actions>``, other attributes in datumaro's ``<attributes>`` (read back typed: true/false, numbers,
text). Items without a subset are listed in ``ImageSets/*/default.txt``. Class lists are written
when the dataset has tags (``class_lists``); z-order, track ids, sources, confidences, polylines,
points and skeletons are dropped and counted.

The package: :mod:`~limner.formats.voc.segmentation` (VOC's classes, palette and segmentation
PNGs), :mod:`~limner.formats.voc.annotations` (the XML files), :mod:`~limner.formats.voc.layout`
(labelmap.txt, ImageSets lists, folder scans), :mod:`~limner.formats.voc.convert` (Dataset <-> VOC
records and files) and :mod:`~limner.formats.voc.api` (read, write, detect and the registration of
the three formats). This module re-exports their names.
"""

from limner.formats.voc.api import detect, read, write
from limner.formats.voc.convert import dataset_to_voc, voc_to_dataset
from limner.formats.voc.segmentation import VOC_LABELS, voc_palette

# also reached as an attribute of this package
from limner.formats.voc.segmentation import VOID  # noqa: F401

__all__ = [
    "VOC_LABELS",
    "dataset_to_voc",
    "detect",
    "read",
    "voc_palette",
    "voc_to_dataset",
    "write",
]
