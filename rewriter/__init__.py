"""dockerfix core: lossless Dockerfile syntax tree, shell analysis, fix engine, diffs, CLI.

The syntax tree's names are re-exported on first use (importing the package creates no class, so the
command line can install :mod:`rewriter.core.classcode` before the first dataclass is made).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rewriter.core.syntax import (
        Blank,
        Comment,
        Directive,
        Dockerfile,
        DockerfileSyntaxError,
        Flag,
        Heredoc,
        Instruction,
        Stage,
        parse,
    )

__all__ = [
    "Blank",
    "Comment",
    "Directive",
    "Dockerfile",
    "DockerfileSyntaxError",
    "Flag",
    "Heredoc",
    "Instruction",
    "Stage",
    "parse",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rewriter.core import syntax

        return getattr(syntax, name)
    raise AttributeError(f"module 'rewriter' has no attribute {name!r}")
