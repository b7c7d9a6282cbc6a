"""dockerfix core: lossless Dockerfile syntax tree, shell analysis, fix engine, diffs, CLI."""

from rewriter.core import classcode as _classcode

_classcode.install()  # before the first dataclass: their generated methods' code is kept between runs

from rewriter.core.syntax import (  # noqa: E402 (after install: syntax makes dataclasses)
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
