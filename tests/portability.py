"""What dockerfix writes must build with BuildKit >= 0.10 and buildah >= 1.28."""

from __future__ import annotations

import re

#: syntax that those builders lack; dockerfix may keep it where the user wrote it, never emit it
_UNPORTABLE = re.compile(r"<<-?['\"]?[A-Za-z_]|--link\b|--exclude\b|--checksum\b|--parents\b|--chmod=\d")


def assert_portable(result) -> None:
    """No line that dockerfix added uses heredocs, COPY --link/--exclude/--parents or ADD --checksum."""
    added = [e.content for e in result.net_edits]
    for text in added:
        match = _UNPORTABLE.search(text)
        assert match is None, f"emitted {match.group(0)!r}"
