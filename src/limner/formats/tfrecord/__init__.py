"""TensorFlow Object Detection API: TFRecord files of ``tf.train.Example``, without TensorFlow.

Layout::

    <subset>.tfrecord     one per subset ("default" for items without one; sharded names such as
                          train.tfrecord-00000-of-00010 or train.record are read too)
    label_map.pbtxt       item { id: 1 name: 'cat' } per class, ids from 1

The container is written and checked here: per record a little-endian uint64 length, the masked
CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data (CRC-32C Castagnoli, table-driven
in pure Python, with a numpy path for long records that runs the table on many slices at once and
joins the slices' CRCs). Every CRC is verified on read; a mismatch is a FormatError naming the file
and the record index. The ``tf.train.Example`` protobuf is encoded and decoded by hand (varints,
length-delimited fields): ``Example{features: Features{feature: map<string, Feature>}}``, a Feature
being one of ``bytes_list`` (1), ``float_list`` (2, packed float32) or ``int64_list`` (3, packed
varints); unpacked repeated fields are read too.

Keys read and written (as TF OD API's ``create_*_tf_record`` scripts write them)::

    image/filename, image/source_id, image/height, image/width, image/encoded, image/format,
    image/key/sha256, image/object/bbox/{xmin,xmax,ymin,ymax} (normalised), image/object/class/text,
    image/object/class/label (ids from label_map.pbtxt, 1-based), image/object/mask (one PNG per
    object, 0/1 pixels), image/class/text + image/class/label (+ image/class/confidence): tags

Reading. Each object becomes a box; an object with a non-empty mask PNG becomes a box and a mask
sharing a group_id (1, 2, ... per image). Box coordinates are the file's float32 fractions times the
image size, rounded to 1/1000 pixel (float32 holds about 7 digits, so this gives back the numbers
that were written). An object's class is its label id looked up in label_map.pbtxt, else its
class text; objects with neither are dropped and counted, as are the objects of a record without
image/height and image/width (unless ``images_dir`` holds the image, whose header gives the size). Other per-object lists of one value per
object (``image/object/difficult``, ``truncated``, ``view``, ``weight``, ...) become attributes named
after the last part of the key; other image-level features are kept in
``Item.metadata["tf_detection_api"]["features"]`` (text and numbers; binary ones are dropped and
counted), with ``source_id`` when it differs from the file name. Images: the records hold the image
bytes; they are written out only when the caller passes ``images_dir`` (to
``images_dir/<image/filename>``, and ``Item.image`` points there); otherwise ``Item.image`` is None
and the item keeps the size stored in the record. Records without ``image/encoded`` are listed in
``missing_images`` unless ``images_dir`` holds the file. The label map's ids are kept in
``Dataset.info["tf_detection_api"]["label_ids"]`` so that writing back keeps them (COCO's have gaps).

Writing. Boxes are written as they are (not clipped); polygons, ellipses, rotated boxes and masks
as their bounding box plus a mask PNG (counted: "polygons written as pixel masks"); a box and an
area shape of one label in one group make one object. When an image has any mask, every object of
it gets one (an all-zero PNG for a plain box, which reads back as a box only), as TF OD API's
decoder wants one mask per box. Image bytes come from ``Item.image`` as they are on disk (no
re-encoding; ``include_images=False`` leaves them out): a missing file gives a record without
``image/encoded``, listed in ``missing_images``. ``source_id`` is the one read, else the item name.
Attributes set on every object of an image become ``image/object/<name>`` lists (int64, float or
bytes; checkboxes as 0/1, counted); others, z-order, track ids, sources and confidences of objects,
polylines, points and skeletons are dropped and counted. Images of unknown size (no width/height
and no readable image) lose their objects, counted.

The package: :mod:`~limner.formats.tfrecord.records` (CRC-32C and the TFRecord container),
:mod:`~limner.formats.tfrecord.example` (the ``tf.train.Example`` wire format),
:mod:`~limner.formats.tfrecord.label_map` (label_map.pbtxt), :mod:`~limner.formats.tfrecord.convert`
(Dataset <-> Example features) and :mod:`~limner.formats.tfrecord.api` (read, write, detect and the
format's registration). This module re-exports their names.
"""

from limner.formats.tfrecord.api import detect, read, write
from limner.formats.tfrecord.convert import dataset_to_tf, tf_to_dataset
from limner.formats.tfrecord.example import decode_example, encode_example
from limner.formats.tfrecord.label_map import format_label_map, parse_label_map
from limner.formats.tfrecord.records import crc32c, crc32c_many, masked_crc32c, read_records, write_records

# also reached as attributes of this package: the label map's file name, and private helpers the
# tests use
from limner.formats.tfrecord.example import _fields, _ld, _varint  # noqa: F401
from limner.formats.tfrecord.label_map import LABEL_MAP  # noqa: F401
from limner.formats.tfrecord.records import _crc_loop, _frame  # noqa: F401

__all__ = [
    "crc32c",
    "crc32c_many",
    "dataset_to_tf",
    "decode_example",
    "detect",
    "encode_example",
    "format_label_map",
    "masked_crc32c",
    "parse_label_map",
    "read",
    "read_records",
    "tf_to_dataset",
    "write",
    "write_records",
]
