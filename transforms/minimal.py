"""minimal — placeholder registered while the module is written."""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.edits import Fix, Note
from rewriter.facts import Context


class MinimalTransform:
    id = "minimal"
    description = "No extra packages in the runtime image."

    @property
    def explain(self) -> str:
        return __doc__ or ""

    def run(self, ctx: Context) -> Iterator[Fix | Note]:
        return iter(())


TRANSFORM = MinimalTransform()
