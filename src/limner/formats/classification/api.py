"""The registration of the three classification formats ("imagenet", "imagenet_txt",
"classification_csv") with :mod:`limner.formats.registry`, each with its reader, writer and
detector."""

from __future__ import annotations

from limner.formats.classification.imagenet import detect_imagenet, read_imagenet, write_imagenet
from limner.formats.classification.imagenet_txt import detect_imagenet_txt, read_imagenet_txt, write_imagenet_txt
from limner.formats.classification.labels_csv import detect_csv, read_csv, write_csv
from limner.formats.registry import Format, register

register(Format("imagenet", "ImageNet class folders ([<split>/]<class>/<image>, torchvision ImageFolder)",
                read_imagenet, write_imagenet, detect_imagenet))  # fmt: skip
register(Format("imagenet_txt", "ImageNet text lists (<subset>.txt of 'image label_id', synsets.txt, images/)",
                read_imagenet_txt, write_imagenet_txt, detect_imagenet_txt))  # fmt: skip
register(Format("classification_csv", "Classification CSV (file,label rows; ';' between several labels)",
                read_csv, write_csv, detect_csv))  # fmt: skip
