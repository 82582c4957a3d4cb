"""Image classification: ImageNet-style class folders, datumaro's ImageNet text lists, and a CSV.

"imagenet" (torchvision's ``ImageFolder``)::

    <root>/<class>/<image>                one folder per class, images inside (sub-folders too)
    <root>/<split>/<class>/<image>        with splits: every top folder named like a split
                                          (train, val, valid, validation, test, trainval, default)

  Reading: each image becomes an item with one tag, its class folder's name; classes are the
  folder names in sorted order (torchvision's class indices); images nested deeper in a class
  folder count for it (as torchvision walks them; datumaro reads one level only); a ``no_label``
  folder (datumaro's) holds images without a tag; images outside a class folder are skipped and
  reported. Item names are paths from the root (``train/cat/1.jpg``).
  Writing copies each image into its class folder (``include_images`` defaults to True: the
  folders are the labels; with False nothing but the report is written). The file keeps the
  item's path minus a leading subset and class folder. An image with several tags is copied
  into each class folder (counted), one without a tag is left out (counted); other shapes, tag
  attributes and confidences, and labels without images are dropped and counted.

"imagenet_txt" (datumaro)::

    <subset>.txt        "<image> <label id> [<label id> ...]" per image; a name with spaces is
                        quoted ("my image".jpg or "my image.jpg")
    synsets.txt         one label per line, the line number (from 0) is the id; another file name
                        with ``labels_file=``, else the one ``synsets*.txt`` there is
    images/<image>      the images

  Without a labels file, ids become labels ``class-<id>`` (reported). An id that is not a number
  or not in the labels file is a FormatError naming the line. Writing lists every item (several
  ids for several tags, none for none); images are copied with ``include_images=True``.

"classification_csv"::

    labels.csv          file,label[,subset] — a header row is optional (recognised by its column
                        names: file/filename/image/path..., label/labels/class/category/tags...,
                        subset/split); fields may be quoted (RFC 4180)
    <file>              the images, relative to the CSV's folder

  Several labels per image: either several rows for one file, or one field with the labels
  separated by ";" (both are read; a label name therefore cannot hold ";"). An empty label field
  gives an image without a tag. Writing: one row per image, its labels joined by ";" (so every
  image is listed, tagged or not), header ``file,label`` (``,subset`` when the dataset has
  subsets); labels holding ";" are reported and left out. Errors name the CSV line.

The package: :mod:`~limner.formats.classification.files` (image file names, the "default" subset),
:mod:`~limner.formats.classification.tags` (an item's tags and a dataset's labels, what the formats
cannot hold counted), :mod:`~limner.formats.classification.imagenet` ("imagenet": class folders),
:mod:`~limner.formats.classification.imagenet_txt` ("imagenet_txt": text lists and synsets.txt),
:mod:`~limner.formats.classification.labels_csv` ("classification_csv": a CSV of file,label) and
:mod:`~limner.formats.classification.api` (the registration of the three formats). This module
re-exports their names.
"""

# imported for its registration of the three formats
from limner.formats.classification import api  # noqa: F401
from limner.formats.classification.imagenet import detect_imagenet, read_imagenet, write_imagenet
from limner.formats.classification.imagenet_txt import (
    dataset_to_imagenet_txt,
    detect_imagenet_txt,
    imagenet_txt_to_dataset,
    read_imagenet_txt,
    write_imagenet_txt,
)
from limner.formats.classification.labels_csv import csv_to_dataset, dataset_to_csv, detect_csv, read_csv, write_csv

__all__ = [
    "csv_to_dataset",
    "dataset_to_csv",
    "dataset_to_imagenet_txt",
    "detect_csv",
    "detect_imagenet",
    "detect_imagenet_txt",
    "imagenet_txt_to_dataset",
    "read_csv",
    "read_imagenet",
    "read_imagenet_txt",
    "write_csv",
    "write_imagenet",
    "write_imagenet_txt",
]
