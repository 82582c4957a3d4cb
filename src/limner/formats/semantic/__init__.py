"""Semantic-segmentation masks: one class map (a PNG) per image, in four layouts.

"semantic_indexed" and "semantic_rgb" (datumaro's ``common_semantic_segmentation``)::

    dataset_meta.json     {"label_map": {"0": "background", "1": "cat", ...},
                           "segmentation_colors": [[0, 0, 0], [r, g, b], ...], "background_label": "0"}
    images/<name>         the images (copied with include_images=True)
    masks/<name>.png      "semantic_indexed": a palette PNG whose pixel values are the label_map
                          keys; "semantic_rgb": an RGB PNG painted with segmentation_colors

  With subsets, each one is a folder ``<subset>/`` holding the three. The reader takes either kind
  of PNG (palette or grey: values; RGB: colours); value 255 is void when the label map has no 255.

"cityscapes"::

    gtFine/<split>/<city>/<stem>_gtFine_labelIds.png      class ids (uint8)
    gtFine/<split>/<city>/<stem>_gtFine_instanceIds.png   classId * 1000 + n for instances, else the
                                                          class id (uint16)
    gtFine/<split>/<city>/<stem>_gtFine_color.png         the class colours (RGB)
    gtFine/<split>/<city>/<stem>_gtFine_labelTrainIds.png trainIds, 255 ignored (official table only)
    leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png     the images
    label_colors.txt                                      "r g b name" per id, for a non-Cityscapes
                                                          label set (datumaro's extension)

  The standard table of cityscapesScripts' ``labels.py`` is embedded: 34 classes with ids 0-33,
  trainIds and colours ("license plate", id -1, is left out). Reading takes the first of
  instanceIds, labelIds, labelTrainIds, color that exists for an image.

"camvid" (SegNet's CamVid layout)::

    label_colors.txt      "R G B name" per class, line order = index (CamVid's 32 classes when absent)
    <split>.txt           "/<split>/<image> /<split>annot/<mask>" per image
    <split>/<image>       the images
    <split>annot/<mask>   RGB masks in the label colours (grey or palette masks: the index)

Reading. Every class present in an image becomes one mask shape (pixels of the background, index
0, void and unknown values make none; unknown values are reported). Cityscapes' instance ids add one
mask per instance, its pixels taken from its class's mask, with group ids 1, 2, ... per image.
Item names are image paths relative to the images folder (``train/aachen/aachen_..._leftImg8bit.png``
for Cityscapes, ``train/0001TP_006690.png`` for CamVid); a split folder named ``default`` means no
subset.

Writing. Boxes, rotated boxes, polygons, ellipses and masks are rasterised
(``core.geometry.rasterize``) in z-order, later shapes over earlier ones, into one class map per
image; "shapes partly hidden by overlapping shapes" counts shapes painted over pixels of another
label (or Cityscapes instance). Polylines, points,
skeletons and tags cannot be painted and are counted as dropped, as are attributes, track ids,
sources and confidences. Index 0 is the background (a label named "background", CamVid's "Void" or
Cityscapes' "unlabeled" takes it; its shapes are painted as background and so not read back,
counted). Labels get indices in schema order from 1 (254 at most; more are counted and left
unpainted; the background names are matched whatever their case). Colours are the labels' own
when they are distinct and not black (else VOC's palette, reported);
CamVid's and Cityscapes' own labels keep their standard colours and ids. Cityscapes instances: every
shape with a group_id (one instance per group and label) and every shape of Cityscapes' instance
classes (person, rider, car, truck, bus, caravan, trailer, train, motorcycle, bicycle). Images of
unknown size (no width/height, no readable image, no mask) get no PNG, reported.

The package: :mod:`~limner.formats.semantic.labels` (Cityscapes' and CamVid's label tables,
colours, label_colors.txt), :mod:`~limner.formats.semantic.class_maps` (mask PNGs, class maps <-> mask
shapes, painting), :mod:`~limner.formats.semantic.dataset_meta` ("semantic_indexed" and
"semantic_rgb"), :mod:`~limner.formats.semantic.cityscapes`, :mod:`~limner.formats.semantic.camvid`
and :mod:`~limner.formats.semantic.api` (the registration of the four formats). This module
re-exports their names.
"""

# imported for its registration of the four formats
from limner.formats.semantic import api  # noqa: F401
from limner.formats.semantic.camvid import detect_camvid, read_camvid, write_camvid
from limner.formats.semantic.cityscapes import detect_cityscapes, read_cityscapes, write_cityscapes
from limner.formats.semantic.class_maps import dataset_to_masks, masks_to_dataset, paint
from limner.formats.semantic.dataset_meta import detect_semantic, read_semantic, write_semantic
from limner.formats.semantic.labels import CAMVID_LABELS, CITYSCAPES_LABELS

__all__ = [
    "CAMVID_LABELS",
    "CITYSCAPES_LABELS",
    "dataset_to_masks",
    "detect_camvid",
    "detect_cityscapes",
    "detect_semantic",
    "masks_to_dataset",
    "paint",
    "read_camvid",
    "read_cityscapes",
    "read_semantic",
    "write_camvid",
    "write_cityscapes",
    "write_semantic",
]
