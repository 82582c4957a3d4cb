"""Model assistance: interactors (prompts to mask), detectors (image to shapes) and the tracker
seam, all found through one registry that built-in and user-supplied assistants share.

>>> from limner import assist
>>> tool = assist.get("interactor", "magic_wand", threshold=20)
>>> result = assist.run(tool, image, assist.Prompt(positive=[(120, 80)]), key="asset-7")
>>> result.polygons  # [{"points": [[x, y], ...], "holes": [...]}]
"""

from limner.assist.base import (
    KINDS,
    PROMPT_KINDS,
    Detection,
    Detector,
    Interactor,
    InteractorResult,
    Prompt,
    Scribble,
    Tracker,
    available,
    check_image,
    describe,
    get,
    register,
    unregister,
)
from limner.assist.polygon import mask_to_polygons
from limner.assist.precompute import PrecomputeCache, default_cache, run

__all__ = [
    "KINDS",
    "PROMPT_KINDS",
    "Detection",
    "Detector",
    "Interactor",
    "InteractorResult",
    "PrecomputeCache",
    "Prompt",
    "Scribble",
    "Tracker",
    "available",
    "check_image",
    "default_cache",
    "describe",
    "get",
    "mask_to_polygons",
    "register",
    "run",
    "unregister",
]
