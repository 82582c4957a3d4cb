"""COCO: instances, person keypoints, image-level labels, captions and image_info (panoptic is in
:mod:`limner.formats.coco_panoptic`).

Layout: ``annotations/<task>_<subset>.json`` with the images in ``images/<subset>/`` (also looked
for in ``images/``, ``<subset>/`` as COCO 2017 keeps them, and the dataset folder), or one JSON file
given directly (images next to it or in an ``images/`` folder beside it). Tasks read: ``instances``,
``person_keypoints``, ``stuff``, ``labels`` (datumaro's image-level labels), ``captions`` and
``image_info``. Item names are ``<subset>/<file_name>``; the subset ``default`` is Limner's "no
subset" (``Item.subset`` None, name = ``file_name``), as datumaro uses that name.

COCO annotation → shapes:

- ``segmentation`` polygons → one polygon shape each; an RLE (compressed string or uncompressed
  list counts) → a mask shape; with neither, ``bbox`` → a box (a CVAT ``rotation`` attribute makes
  it a rotated_box around the box's centre); with no bbox either → a tag.
- ``keypoints`` → a skeleton shape, plus a box from ``bbox`` and the segmentation shapes.
- the shapes of one annotation share a group id: the annotation's ``limner.group_id``, else its
  ``group_id``, else its ``id``. A single shape keeps the group id only if the file gives one.
- ``iscrowd`` 1 → attribute ``iscrowd`` True; the ``attributes`` dict (as CVAT writes it) → the
  shape's attributes; ``score`` (COCO results) → confidence; the ``limner`` dict holds the rest of a
  shape that COCO has no field for: ``z_order``, ``group_id``, ``track_id``, ``source`` (each only
  when not the default) and ``bbox_derived`` (the bbox was computed for a skeleton, not drawn).
- annotations split over instances/stuff/person_keypoints files of a subset with the same image and
  id are one annotation (COCO's person keypoints repeat the instances' ids): shapes of a kind
  already read are not added twice.

Images: ``width``/``height`` (read from the image header when the file lacks them and the image is
found), the image ``id`` and every other key (license, urls, ...) in ``item.metadata["coco"]``, so a
write keeps the ids. Captions go to ``item.metadata["captions"]``. Labels get the attributes their
shapes carry declared (checkbox, number or text by the values met). Other keys of an annotation
are not kept. Polygons with fewer than 3 points, zero-size boxes, masks of the wrong size, unknown
categories and images are skipped and counted; malformed values raise FormatError naming the file
and the key (``annotations[12].bbox``).

Category ids, supercategories and any other category keys are kept in
``dataset.info["coco"]["categories"][name]``; a write reuses the ids and gives new labels the next
free ones. Categories with ``keypoints``/``skeleton`` give their label a skeleton; COCO edges are
1-based, Limner's 0-based (a file whose edges use index 0 is read as 0-based, and reported).

Writing: per subset ``annotations/instances_<subset>.json`` with boxes, polygons, masks and
keypoints (categories carry ``keypoints`` and ``skeleton``), ``labels_<subset>.json`` with the tags
(kept apart so the instances file stays valid for COCOeval, which needs a bbox on every annotation)
and ``captions_<subset>.json`` from ``item.metadata["captions"]``. Shapes of one group and label
become one annotation (polygons as one multi-polygon segmentation; a skeleton with its box and
segmentation). Polygons with holes become RLE masks, ellipses polygons, rotated boxes CVAT-style
boxes with a ``rotation`` attribute; polylines and points are dropped — each counted in the report.
Polygon areas are shoelace areas, mask areas pixel counts. Files of the written subsets left by an
earlier write (say a ``labels_train.json`` when there are no tags now) are removed and reported.

Speed and memory: the annotations array of a big file is parsed a few MB at a time as it is
converted (:func:`~limner.formats.base.load_json_pieces`), with the cyclic garbage collector paused
(see :func:`no_gc`); polygon points become :class:`~limner.core.points.Points` views of one float
array per few million coordinates, with their bounds, instead of a Python list per vertex.

The package: :mod:`~limner.formats.coco.layout` (task and file names, the files of a folder,
image folders, finding and copying images), :mod:`~limner.formats.coco.categories` (categories and
labels, skeletons, declared attributes), :mod:`~limner.formats.coco.annotations` (one annotation to
shapes: boxes, polygon rings, keypoints, RLE masks), :mod:`~limner.formats.coco.reading` (COCO
documents -> Dataset), :mod:`~limner.formats.coco.writing` (Dataset -> COCO documents) and
:mod:`~limner.formats.coco.api` (read, write, detect and the format's registration). This module
re-exports their names.
"""

from limner.formats.coco.api import detect, read, write
from limner.formats.coco.layout import DEFAULT_SUBSET, TASKS, find_files
from limner.formats.coco.reading import coco_to_dataset
from limner.formats.coco.writing import dataset_to_coco

# also reached as attributes of this package: the pieces coco_panoptic shares
from limner.formats.coco.annotations import read_extras  # noqa: F401
from limner.formats.coco.categories import (  # noqa: F401
    category_ids,
    declare_attributes,
    finish_skeletons,
    read_categories,
)
from limner.formats.coco.layout import (  # noqa: F401
    copy_images,
    dumps,
    file_name_of,
    find_images,
    parse_name,
    peek,
    split_subset,
)
from limner.formats.coco.reading import check_top, read_images, read_meta  # noqa: F401
from limner.formats.coco.writing import image_ids, write_extras  # noqa: F401

__all__ = [
    "DEFAULT_SUBSET",
    "TASKS",
    "coco_to_dataset",
    "dataset_to_coco",
    "detect",
    "find_files",
    "read",
    "write",
]
