"""Dataset formats: one module per format, each registered by name.

`read(path, format=None)` finds the format by itself when none is named; `write(dataset, path,
format)` writes it. Third-party formats register the same way, through the `limner.formats`
entry point group (a module whose import calls `register`).
"""

from limner.formats.registry import FORMATS, Format, detect, get, names, read, register, resolve, write

__all__ = ["FORMATS", "Format", "detect", "get", "names", "read", "register", "resolve", "write"]
