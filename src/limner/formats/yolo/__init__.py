"""YOLO: the Ultralytics layout (detect, segment, pose, obb, classify) and the older darknet layouts.

Ultralytics layout::

    data.yaml                 train/val/test (folders or .txt lists of images), names, kpt_shape, ...
    images/<split>/x.jpg
    labels/<split>/x.txt      one line per object, coordinates normalised to [0, 1]; an empty file
                              for an image without objects

A label file is found from its image as Ultralytics does: the last ``/images/`` of the image's path
becomes ``/labels/`` and the suffix ``.txt`` (beside the image when the path has no ``images``).
Lines by task (each a registered format name):

=============  =====================================  =========================================
format         line                                   Limner shapes
=============  =====================================  =========================================
yolo           ``cls cx cy w h``                      box
yolo_segment   ``cls x1 y1 x2 y2 ...``                polygon (no holes)
yolo_pose      ``cls cx cy w h px py [v] ...``        box + skeleton sharing a group_id
yolo_obb       ``cls x1 y1 ... x4 y4`` (corners)      rotated_box
yolo_classify  ``<split>/<class>/img.jpg`` folders    tag
=============  =====================================  =========================================

Reading "yolo" finds the task by itself: data.yaml's ``task`` (a hint Limner writes, ignored by
Ultralytics), else ``kpt_shape``: pose, else from the label lines: every object line 9 numbers long:
obb; any longer than 6: segment; else detect. The other names force their task.
Also read as "yolo": darknet's ``obj.data`` + ``obj.names`` + ``train.txt`` (paths written from
darknet's working folder, so a leading ``data/`` is dropped) and the folder layouts ``obj.names`` +
``images/<split>`` + ``labels/<split>`` or ``Images/`` + ``Annotations/``. Image sizes come from the
image headers (read only for images whose label file has lines).

Writing: class ids are the positions of the labels in the schema, every label kept (labels unused by
the task too), so ids are the same whatever the task. data.yaml gets ``task``, ``train``/``val``/``test``,
``names`` as ``{id: name}`` and ``nc``, no ``path`` (Ultralytics then takes the yaml's folder, so the
dataset can move). Pose adds ``kpt_shape``, ``flip_idx`` (kept, or paired from left/right point
names), ``kpt_names`` ({id: [point names]}) and Limner's ``kpt_edges`` ({id: [[i, j], ...]}, ignored
by Ultralytics). Shapes are clipped to the image before normalising. What the task cannot hold is
converted or dropped and counted in the Report; confidences go in an optional last column with
``with_confidence=True`` (1 for shapes without one).

The package: :mod:`~limner.formats.yolo.layout` (the folder layouts, image and label paths, image
sizes), :mod:`~limner.formats.yolo.data_yaml` (data.yaml read and made),
:mod:`~limner.formats.yolo.parsing` (label lines -> shapes), :mod:`~limner.formats.yolo.formatting`
(shapes -> label lines), :mod:`~limner.formats.yolo.convert` (Dataset <-> YOLO records),
:mod:`~limner.formats.yolo.classify` (the classify task's folders) and
:mod:`~limner.formats.yolo.api` (read, write, detect and the registration of the five formats). This
module re-exports their names.
"""

from limner.formats.yolo.api import TASKS, detect, read, write
from limner.formats.yolo.convert import dataset_to_yolo, yolo_to_dataset
from limner.formats.yolo.data_yaml import yolo_config
from limner.formats.yolo.formatting import format_labels
from limner.formats.yolo.parsing import parse_labels

# also reached as an attribute of this package: Ultralytics' image-to-label path rule, which the
# tests use
from limner.formats.yolo.layout import _label_path  # noqa: F401

__all__ = [
    "TASKS",
    "dataset_to_yolo",
    "detect",
    "format_labels",
    "parse_labels",
    "read",
    "write",
    "yolo_config",
    "yolo_to_dataset",
]
