"""``assert_codemod``: one before/after check of a codemod, like LibCST's ``assertCodemod``.

::

    assert_codemod(
        '''
        FROM python:3.13-slim
        CMD python app.py
        ''',
        '''
        FROM python:3.13-slim
        CMD ["python", "app.py"]
        ''',
        transform="signals",
    )

``before`` and ``after`` are dedented (and the newline right after an opening triple quote dropped);
``after=None`` means the Dockerfile must stay unchanged. Besides the output, every call checks: no
error and no internal error, every ``notes`` substring in what the user is told (:func:`messages`),
the edited side files equal ``side_files`` (none when it is not given), the output parsed by
BuildKit's own parser (PyPI ``dockerfile``), no heredoc/``--link``/``--checksum`` in emitted lines, and
idempotence: a second run over the output (and the edited side files) changes nothing.

``context`` is the build context: a dict ``{relative path: text or bytes}`` written to a temporary
folder, or an existing folder. ``config`` is a dict of :class:`rewriter.engine.config.Config` fields
(``uid``, ``gid``, ``images``, ``tables``). The golden runner (``tests/test_golden.py``) uses the same
pieces: :func:`run`, :func:`messages`, :func:`make_config` and :func:`assert_sound`.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dockerfile
from portability import assert_portable

from rewriter.engine.config import Config
from rewriter.engine.pipeline import FileResult, Status, process_text
from transforms import load

#: Config fields a test may set; the others come from the helper's own arguments (``transform``,
#: ``unsafe``, ``context``) or mean nothing to ``process_text``, so setting them would be silently ignored
CONFIG_FIELDS = frozenset({"uid", "gid", "images", "tables"})


def dedent(text: str) -> str:
    """``text`` without the newline after an opening triple quote and without a common indent.

    A text whose lines have no common indent is returned as it is (``textwrap.dedent`` would also
    empty whitespace-only lines, which a Dockerfile test may mean)."""
    if text.startswith("\n"):
        text = text[1:]
    margins = [len(line) - len(line.lstrip(" \t")) for line in text.splitlines() if line.strip()]
    return textwrap.dedent(text) if margins and min(margins) > 0 else text


def messages(result: FileResult) -> list[str]:
    """What the user is told: notes (refusals included), the fixes not applied (unsafe ones without
    ``--unsafe-fixes``, suggestions) and the fixes applied."""
    return ([n.message for n in result.notes] + [f.message for f in result.suggestions]
            + [f.message for f in result.fixes])


def make_config(fields: Mapping[str, Any] | None) -> Config | None:
    """A :class:`Config` with the given fields (``uid``, ``gid``, ``images``, ``tables``); None for None."""
    if fields is None:
        return None
    assert isinstance(fields, Mapping), f"config must be a mapping of Config fields, not {fields!r}"
    unknown = sorted(set(fields) - CONFIG_FIELDS)
    assert not unknown, f"config: unknown or unsupported field(s) {unknown}; allowed: {sorted(CONFIG_FIELDS)}"
    return dataclasses.replace(Config(), **fields)


def _transforms(transform: str | Sequence[str]) -> list[Any]:
    ids = [transform] if isinstance(transform, str) else list(transform)
    assert ids, "no transform given"
    return [load(t) for t in ids]


def run(text: str, *, transforms: Sequence[Any], unsafe: bool = False, config: Config | None = None,
        context_dir: Path | None = None) -> FileResult:
    """``process_text`` over ``text``, asserting it neither failed nor hit an internal error."""
    result = process_text(text, path="Dockerfile", context_dir=context_dir, config=config,
                          transforms=transforms, unsafe_fixes=unsafe)
    assert result.status != Status.ERROR, result.error
    assert not result.internal_errors, result.internal_errors
    return result


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)


def assert_sound(result: FileResult, *, transforms: Sequence[Any], unsafe: bool = False,
                 config: Config | None = None, context_dir: Path | None = None) -> None:
    """The output is a Dockerfile BuildKit accepts, the lines dockerfix added build on older builders,
    and a second run over the output and the edited side files changes nothing."""
    dockerfile.parse_string(result.new_text)
    assert_portable(result)
    with tempfile.TemporaryDirectory(prefix="dockerfix-again-") as tmp:
        again_ctx = context_dir
        if context_dir is not None or result.side_files:
            again_ctx = Path(tmp) / "ctx"
            if context_dir is not None:
                shutil.copytree(context_dir, again_ctx, symlinks=True)
            for rel, (_old, new, _edits) in result.side_files.items():
                _write(again_ctx / rel, new)
        again = run(result.new_text, transforms=transforms, unsafe=unsafe, config=config, context_dir=again_ctx)
    assert again.new_text == result.new_text, "not idempotent: a second run changed the Dockerfile"
    assert not again.side_files, f"side files not idempotent: a second run changed {sorted(again.side_files)}"


def assert_codemod(
    before: str,
    after: str | None,
    *,
    transform: str | Sequence[str],
    notes: str | Sequence[str] = (),
    unsafe: bool = False,
    config: Mapping[str, Any] | None = None,
    context: Mapping[str, str | bytes] | Path | None = None,
    side_files: Mapping[str, str] | None = None,
) -> FileResult:
    """Run ``transform`` (an id or several, in registry order as given) over ``before`` and check
    the result (see the module docstring). Returns the result for further checks."""
    transforms = _transforms(transform)
    source = dedent(before)
    expected = source if after is None else dedent(after)
    cfg = make_config(config)
    wanted = [notes] if isinstance(notes, str) else list(notes)
    with tempfile.TemporaryDirectory(prefix="dockerfix-context-") as tmp:
        if context is None or isinstance(context, Path):
            context_dir = context
        else:
            context_dir = Path(tmp)
            for rel, content in context.items():
                _write(context_dir / rel, content)
        result = run(source, transforms=transforms, unsafe=unsafe, config=cfg, context_dir=context_dir)
        assert result.new_text == expected
        produced = {rel: new for rel, (_old, new, _edits) in result.side_files.items()}
        assert produced == {rel: dedent(text) for rel, text in (side_files or {}).items()}
        told = messages(result)
        for want in wanted:
            assert want and any(want in m for m in told), f"note {want!r} not in {told}"
        assert_sound(result, transforms=transforms, unsafe=unsafe, config=cfg, context_dir=context_dir)
    return result
