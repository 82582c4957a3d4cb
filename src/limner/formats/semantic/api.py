"""The registration of the four semantic-mask formats ("semantic_indexed", "semantic_rgb",
"cityscapes", "camvid") with :mod:`limner.formats.registry`, each with its reader, writer (the
semantic ones with their PNG mode) and detector."""

from __future__ import annotations

from limner.formats.registry import Format, register
from limner.formats.semantic.camvid import detect_camvid, read_camvid, write_camvid
from limner.formats.semantic.cityscapes import detect_cityscapes, read_cityscapes, write_cityscapes
from limner.formats.semantic.dataset_meta import detect_semantic, read_semantic, write_semantic

register(Format("semantic_indexed", "Semantic masks: palette PNG per image + dataset_meta.json (images/, masks/)",
                read_semantic, lambda ds, p, **o: write_semantic(ds, p, mode="indexed", **o),
                lambda p: detect_semantic(p, "indexed")))  # fmt: skip
register(Format("semantic_rgb", "Semantic masks: RGB-coded PNG per image + dataset_meta.json (images/, masks/)",
                read_semantic, lambda ds, p, **o: write_semantic(ds, p, mode="rgb", **o),
                lambda p: detect_semantic(p, "rgb")))  # fmt: skip
register(Format("cityscapes", "Cityscapes (gtFine labelIds/instanceIds/color PNGs, leftImg8bit images)",
                read_cityscapes, write_cityscapes, detect_cityscapes))  # fmt: skip
register(Format("camvid", "CamVid (label_colors.txt, <split>.txt, <split>annot/ colour masks)",
                read_camvid, write_camvid, detect_camvid))  # fmt: skip
