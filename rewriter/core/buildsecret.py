"""What a rewritten build needs from its build command: one typed value from codemod to report.

A :class:`BuildSecret` is made by the ``secrets`` codemod (a fix's ``build_secrets``), listed by the
pipeline's result, written as a JSON record in reports, turned into builder flags by ``verify`` and
``migrate`` (:func:`rewriter.proof.buildsecrets.plan_secrets`) and wired into compose files
(:mod:`rewriter.sidefiles.compose`). It names where a value comes from, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuildSecret:
    """A build secret (``kind="secret"``: from a file of the build context or an environment variable,
    exactly one) or an SSH agent socket (``kind="ssh"``, no source)."""

    id: str
    file: str | None = None  #: relative to the build context (compose's ``file``, BuildKit's ``src``)
    environment: str | None = None  #: variable name (compose's ``environment``, BuildKit's ``env``)
    kind: str = "secret"
    #: an SSH agent that replaces a build argument the key was passed in (``--build-arg SSH_KEY=…``):
    #: the call sites drop that argument (never its value: it is the key)
    replaces: str | None = None

    def __post_init__(self) -> None:
        """Check the id and the sources of the kind."""
        if not self.id:
            raise ValueError("a build secret needs an id")
        if self.kind == "ssh":
            if self.file is not None or self.environment is not None:
                raise ValueError(f"ssh {self.id!r}: an SSH agent has no file or environment source")
        elif self.replaces is not None:
            raise ValueError(f"build secret {self.id!r}: only an SSH agent replaces a build argument")
        elif self.kind == "secret":
            if (self.file is None) == (self.environment is None):
                raise ValueError(f"build secret {self.id!r}: give exactly one of file and environment")
        else:
            raise ValueError(f"unknown build secret kind {self.kind!r}")

    @classmethod
    def ssh(cls, agent: str = "default", replaces: str | None = None) -> BuildSecret:
        return cls(agent, kind="ssh", replaces=replaces)

    @property
    def flag(self) -> str:
        """The ``docker build`` flag: ``--secret id=npmrc,src=.npmrc``, ``--ssh default``."""
        if self.kind == "ssh":
            return f"--ssh {self.id}"
        source = f"src={self.file}" if self.file is not None else f"env={self.environment}"
        return f"--secret id={self.id},{source}"

    def record(self) -> dict[str, str]:
        """The JSON report's record: ``{"type", "id", "src" | "env"}``."""
        out = {"type": self.kind, "id": self.id}
        if self.file is not None:
            out["src"] = self.file
        if self.environment is not None:
            out["env"] = self.environment
        return out

    @classmethod
    def parse(cls, flag: str) -> BuildSecret:
        """The value of a flag :attr:`flag` wrote (``--secret id=x,src=f``, ``--ssh default``)."""
        kind, _, spec = flag.strip().removeprefix("--").partition(" ")
        parts = parse_spec(spec)
        if kind == "ssh":
            return cls.ssh(parts.get("id", "default"))
        return cls(parts.get("id", ""), file=parts.get("src"), environment=parts.get("env"), kind=kind)


def parse_spec(spec: str) -> dict[str, str]:
    """A flag's options: ``id=x,src=f`` -> ``{"id": "x", "src": "f"}``; a bare word is the id."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        key, eq, value = part.strip().partition("=")
        if eq:
            out[key.strip()] = value.strip()
        elif key:
            out["id"] = key.strip()
    return out
