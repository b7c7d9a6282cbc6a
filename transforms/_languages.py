"""Language versions of official images, shared by the codemods that read them (``multistage`` keeps
a version, ``upgrade`` moves it): the version an image tag names, and the moving tags (``python:3``,
``node:lts``) resolved through the runtime table's ``moving_tags``."""

from __future__ import annotations

import re
from typing import Any

from rewriter.facts import ImageRef

_VERSION = {"python": r"^(\d+\.\d+)", "node": r"^(\d+)", "ruby": r"^(\d+\.\d+)", "php": r"^(\d+\.\d+)",
            "java": r"(?:^|-)(\d+)(?:u\d+)?(?:-|$)"}


def language_version(stack: str, image: ImageRef, table: Any) -> tuple[str | None, str | None]:
    """The language version ``image`` (of ``stack``'s family) has, and the moving tag it was read from
    (if any); ``table`` is the runtime table in force (``data/runtimes.yaml``)."""
    tag = image.tag or "latest"
    if stack == "java":
        m = re.search(r"(?:temurin-|jdk-?|jre-?|^)(\d{1,2})(?:u\d+)?(?:\D|$)", tag)
        return (m.group(1), None) if m else (None, None)
    m = re.match(_VERSION[stack], tag)
    if (m and "." in m.group(1)) or (m and stack == "node"):
        return m.group(1), None
    head = re.split(r"[-.]", tag, maxsplit=1)[0]
    moving = table["moving_tags"].get(stack, {})
    if head in moving:
        return str(moving[head]), head
    if tag in moving:
        return str(moving[tag]), tag
    m = re.match(r"^(\d+)\.(\d+)", tag)
    return (f"{m.group(1)}.{m.group(2)}", None) if m else (None, None)
