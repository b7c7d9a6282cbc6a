"""The one model of a Dockerfile that every codemod reads and none re-derives.

Computed lazily, once per parse, and cached on the round's :class:`Context` (``ctx.facts``), the way
LibCST computes metadata through providers and ruff's rules read one semantic model:

* :mod:`rewriter.facts.context` — what a round sees: the tree, the build context, side files.
* :mod:`rewriter.facts.scope` — per instruction: the WORKDIR, ENV/ARG values, USER and SHELL in
  force (BuildKit's expansion rules), stage ancestry, COPY sources.
* :mod:`rewriter.facts.commands` — per RUN: the parsed commands, the program each runs (seen
  through ``sudo``/``env``/``exec``…), whether it runs code we cannot read, paths it makes and
  removes, users it creates, packages installed per manager.
* :mod:`rewriter.facts.start` — whether a shell-form start line needs a shell.
"""

from rewriter.facts.context import COMPOSE_NAMES, Context, ImageRef, inside, parse_image
from rewriter.facts.model import ContextCopy, Facts

__all__ = ["COMPOSE_NAMES", "Context", "ContextCopy", "Facts", "ImageRef", "inside", "parse_image"]
