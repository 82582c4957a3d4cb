"""The built-in interactors, one module per tool; each registers itself on import through
:func:`limner.assist.base.register`, the same way third-party assistants do."""
