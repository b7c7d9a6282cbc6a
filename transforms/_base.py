"""What every codemod class shares: its explanation is its module's docstring."""

from __future__ import annotations

import sys


class Codemod:
    """Base of the transform classes: ``id``, one-line ``description``, ``explain``, ``run(ctx)``."""

    id: str
    description: str

    @property
    def explain(self) -> str:
        """What it changes, when it refuses, how safe it is: the module docstring."""
        return sys.modules[type(self).__module__].__doc__ or ""
