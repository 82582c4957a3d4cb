"""Label Studio JSON export: a list of tasks with annotations and predictions (pre-labels).

A task is ``{"id", "data": {"image": url}, "annotations": [{"result": [...]}], "predictions":
[{"model_version", "score", "result": [...]}]}``. A result is one region (or one classification):
``{"id", "type", "from_name", "to_name", "original_width", "original_height", "value", "score"?,
"parentID"?}`` with ``value`` in percent of the original image size:

- ``rectanglelabels`` {x, y, width, height, rotation}: (x, y) is the top-left corner and the box
  turns ``rotation`` degrees clockwise about that corner (Label Studio's converter computes the
  corners as (x + w cos, y + w sin), ...); a turned box becomes a centre-based ``rotated_box``.
- ``polygonlabels`` {points: [[x, y], ...]}, ``keypointlabels`` {x, y, width}, ``ellipselabels``
  {x, y (centre), radiusX, radiusY, rotation}, ``brushlabels`` {format: "rle", rle: [bytes]} -- Label
  Studio's brush RLE (thi-ng rle-pack over RGBA pixels, the mask is the alpha channel), decoded and
  encoded here as label-studio-converter's ``brush.py`` does.
- ``choices`` without a region -> tags; ``choices`` / ``textarea`` / ``number`` / ``rating`` sharing a
  region's ``id`` -> that shape's attributes (keyed by ``from_name``).
- Annotations are ``source="manual"``; predictions ``source="model:<model_version>"`` with the result's
  (else the prediction's) ``score`` as confidence. ``parentID`` (and ``relation`` results) -> group ids.

The package: :mod:`~limner.formats.labelstudio.brush` (the brush RLE),
:mod:`~limner.formats.labelstudio.results` (the results of one annotation or prediction -> shapes),
:mod:`~limner.formats.labelstudio.reading` (a task list -> items),
:mod:`~limner.formats.labelstudio.writing` (a Dataset -> tasks),
:mod:`~limner.formats.labelstudio.label_config` (the labeling config XML) and
:mod:`~limner.formats.labelstudio.api` (read, write, detect and the format's registration). This
module re-exports their names.
"""

from limner.formats.labelstudio.api import detect, read, write
from limner.formats.labelstudio.brush import brush_decode, brush_encode
from limner.formats.labelstudio.label_config import label_config
from limner.formats.labelstudio.reading import labelstudio_to_dataset
from limner.formats.labelstudio.writing import dataset_to_labelstudio

__all__ = [
    "brush_decode",
    "brush_encode",
    "dataset_to_labelstudio",
    "detect",
    "label_config",
    "labelstudio_to_dataset",
    "read",
    "write",
]
