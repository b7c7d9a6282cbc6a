"""dockerfix core: lossless Dockerfile syntax tree, shell analysis, fix engine, diffs, CLI."""

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
