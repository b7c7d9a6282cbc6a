"""Build secrets for ``verify`` and ``migrate``: which secrets a rewritten build needs and where their
values come from (:func:`plan_secrets`), and the search for their bytes in built images (layers,
``inspect``/``history`` output) and in the files a rewrite keeps out of the context. Values are never
printed: :func:`redact` hides them in any output shown."""

from __future__ import annotations

import contextlib
import gzip
import json
import tarfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from rewriter.core.buildsecret import BuildSecret, parse_spec
from rewriter.proof.containers import VerifyError

#: files the rewrite keeps out of the context larger than this are not searched for
MAX_SECRET_FILE = 1024 * 1024
#: secrets shorter than this are not searched for (too many false hits)
MIN_NEEDLE = 4


# --------------------------------------------------------------------------- secrets


@dataclass
class Secret:
    """One secret a build needs: where its value comes from (a file or a variable) and its bytes."""

    id: str
    src: Path | None = None
    env: str | None = None
    value: bytes = b""
    #: not a build secret: a file the rewrite keeps out of the context, searched for all the same
    scan_only: bool = False

    def flag(self) -> list[str]:
        if self.src is not None:
            return ["--secret", f"id={self.id},src={self.src}"]
        return ["--secret", f"id={self.id},env={self.env}"]

    def needles(self) -> list[bytes]:
        """What to search the images for: the value, trimmed, and JSON-escaped (config, history)."""
        out: list[bytes] = []
        for raw in (self.value, self.value.strip()):
            if len(raw) < MIN_NEEDLE:
                continue
            out.append(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(json.dumps(text)[1:-1].encode())
            out.append(json.dumps(text, ensure_ascii=False)[1:-1].encode())
        return list(dict.fromkeys(out))

    def redactions(self) -> list[str]:
        """Strings to blank out of anything printed: the value, its lines and its longer words."""
        text = self.value.decode("utf-8", errors="replace")
        out = {text, text.strip()}
        for line in text.splitlines():
            out.add(line.strip())
            out.update(w for w in line.split() if len(w) >= 6)
        return sorted((s for s in out if len(s) >= 3), key=len, reverse=True)


@dataclass
class SecretPlan:
    """The flags and environment of both builds, and what to search the images for."""

    original_flags: list[str] = field(default_factory=list)
    rewritten_flags: list[str] = field(default_factory=list)
    original_env: dict[str, str] = field(default_factory=dict)
    secrets: list[Secret] = field(default_factory=list)

    def redactions(self) -> list[str]:
        return sorted({r for s in self.secrets for r in s.redactions()}, key=len, reverse=True)


def _read_secret_file(sid: str, path: Path, shown: str) -> bytes:
    if not path.is_file():
        raise VerifyError(f"secret `{sid}`: {shown} does not exist (or is not a file)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"secret `{sid}`: cannot read {shown}: {exc.strerror or exc}") from None


def _user_secret(spec: str, env: Mapping[str, str], cwd: Path) -> Secret:
    parts = parse_spec(spec.removeprefix("--secret").strip())
    sid = parts.get("id", "")
    if not sid or ("src" in parts) == ("env" in parts):
        raise VerifyError(f"--secret {spec!r}: expected id=ID,src=PATH or id=ID,env=NAME")
    if "src" in parts:
        path = (cwd / parts["src"]).absolute()
        return Secret(sid, src=path, value=_read_secret_file(sid, path, parts["src"]))
    name = parts["env"]
    value = env.get(name)
    if not value:
        raise VerifyError(f"--secret {sid}: environment variable {name} is not set (or empty)")
    return Secret(sid, env=name, value=value.encode())


def arg_names(text: str) -> set[str]:
    """The names every ``ARG`` of a Dockerfile declares."""
    from rewriter.core.syntax import parse

    names: set[str] = set()
    for inst in parse(text).instructions:
        if inst.keyword == "ARG":
            for word in inst.arguments.split():
                names.add(word.split("=", 1)[0])
    return names


def plan_secrets(
    needs: Sequence[BuildSecret],
    *,
    context: Path,
    original_text: str,
    env: Mapping[str, str],
    user_secrets: Sequence[str] = (),
    cwd: Path | None = None,
) -> SecretPlan:
    """Map what the rewrite needs from the build command (its ``build_secrets``, and ``--secret``
    options) to real builder flags.

    Raises :class:`VerifyError` for a secret file that does not exist, an unset variable, or ``--ssh``
    without an agent. Values never go into the flags: files by absolute path, variables by name.
    """
    cwd = cwd or Path.cwd()
    given = {s.id: s for s in (_user_secret(spec, env, cwd) for spec in user_secrets)}
    plan = SecretPlan()
    declared = arg_names(original_text)
    used: set[str] = set()
    for need in needs:
        if need.kind == "ssh":
            if not env.get("SSH_AUTH_SOCK"):
                raise VerifyError(
                    f"the rewritten build needs `{need.flag}` (an SSH agent), but SSH_AUTH_SOCK is not set"
                )
            plan.rewritten_flags += ["--ssh", need.id]
            continue
        sid = need.id
        if sid in given:
            secret = given[sid]
            used.add(sid)
        elif need.file is not None:
            path = (context / need.file).absolute()
            secret = Secret(sid, src=path, value=_read_secret_file(sid, path, f"{need.file} in {context}"))
        elif need.environment is not None:
            name = need.environment
            value = env.get(name)
            if not value:
                raise VerifyError(
                    f"the rewritten build needs secret `{sid}` from environment variable {name}, which is not set"
                    f" (or empty): export it, or pass --secret id={sid},src=FILE"
                )
            secret = Secret(sid, env=name, value=value.encode())
        else:
            raise VerifyError(f"internal error: build secret {need.id!r} names no source")
        plan.secrets.append(secret)
        plan.rewritten_flags += secret.flag()
        name = need.environment
        if name and name in declared:
            # the original took the value as a build argument: --build-arg NAME, the value in the environment
            plan.original_flags += ["--build-arg", name]
            if secret.env != name:
                plan.original_env[name] = secret.value.decode("utf-8", errors="replace").strip()
    for sid, secret in given.items():
        if sid not in used:  # secrets the original already mounts: both builds get them
            plan.secrets.append(secret)
            plan.original_flags += secret.flag()
            plan.rewritten_flags += secret.flag()
    return plan


def excluded_secret_files(old_ignore: str | None, new_ignore: str | None, context: Path,
                          limit: int = 20) -> list[Secret]:  # fmt: skip
    """Files of ``context`` the rewrite newly excludes in ``.dockerignore`` (the secrets transform's block):
    their contents are searched for in the images too, though no build flag names them."""
    from rewriter.sidefiles.dockerignore import BLOCK_COMMENT, find_files, is_excluded, parse

    if not new_ignore or BLOCK_COMMENT not in new_ignore:
        return []
    old_lines = set((old_ignore or "").splitlines())
    block = new_ignore.rsplit(BLOCK_COMMENT, 1)[1]
    added = [p for p in parse("\n".join(ln for ln in block.splitlines() if ln not in old_lines)) if not p.exclusion]
    if not added:
        return []
    out: list[Secret] = []
    for rel in find_files(context, lambda r: is_excluded(r, added))[:limit]:
        path = (context / rel).absolute()
        with contextlib.suppress(OSError):
            if path.stat().st_size <= MAX_SECRET_FILE:
                out.append(Secret(rel, src=path, value=path.read_bytes(), scan_only=True))
    return out


def redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "<redacted>")
    return text


def _chunks(stream: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    while True:
        data = stream.read(size)
        if not data:
            return
        yield data


def _scan_stream(stream: BinaryIO, needles: Mapping[str, Sequence[bytes]], found: set[str]) -> None:
    longest = max((len(n) for ns in needles.values() for n in ns), default=1)
    tail = b""
    for chunk in _chunks(stream):
        buf = tail + chunk
        for sid, ns in needles.items():
            if sid not in found and any(n in buf for n in ns):
                found.add(sid)
        tail = buf[max(0, len(buf) - longest + 1) :] if longest > 1 else b""


def scan_archive(archive: Path, needles: Mapping[str, Sequence[bytes]]) -> set[str]:
    """The ids whose needles occur in any file of the image archive (oci or docker), gunzipped if needed.

    Raises :class:`VerifyError` for a blob that cannot be read (e.g. zstd-compressed).
    """
    found: set[str] = set()
    try:
        with tarfile.open(archive) as outer:
            for member in outer:
                if not member.isfile():
                    continue
                raw = outer.extractfile(member)
                if raw is None:
                    continue
                head = raw.read(4)
                raw.seek(0)
                if head[:2] == b"\x1f\x8b":
                    with gzip.GzipFile(fileobj=raw) as gz:
                        _scan_stream(gz, needles, found)  # type: ignore[arg-type]
                elif head == b"\x28\xb5\x2f\xfd":
                    raise VerifyError(f"{member.name}: zstd-compressed layer, cannot search it for secrets")
                else:
                    _scan_stream(raw, needles, found)
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise VerifyError(f"cannot read the saved image: {exc}") from None
    return found


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def scan_metadata(text: str, secrets: Sequence[Secret]) -> set[str]:
    """The ids of ``secrets`` found in inspect/history output (raw, or in any JSON string it holds)."""
    data = text.encode("utf-8", errors="replace")
    decoded: list[str] = []
    for line in [text, *text.splitlines()]:
        with contextlib.suppress(ValueError):
            decoded.extend(_strings(json.loads(line)))
    blob = "\n".join(decoded).encode("utf-8", errors="replace")
    found = set()
    for s in secrets:
        ns = s.needles()
        if any(n in data or n in blob for n in ns):
            found.add(s.id)
    return found


