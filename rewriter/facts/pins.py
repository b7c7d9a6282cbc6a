"""The language versions a project pins in its own files: what an image's version may move to.

``pins(ctx, stack)`` reads the build context (the files a repository keeps beside its Dockerfile) and
returns one :class:`Pin` per statement it finds, each able to say whether a version (``"3.12"``,
``"22"``) is allowed:

* Python: ``.python-version``, ``runtime.txt`` (``python-3.8.10``), ``pyproject.toml``
  (``[project] requires-python``, Poetry's ``[tool.poetry.dependencies] python``), ``Pipfile``
  (``[requires] python_version``/``python_full_version``), ``setup.py``/``setup.cfg``
  ``python_requires``;
* Ruby: ``Gemfile`` ``ruby '…'`` (a plain version is exact, RubyGems operators otherwise),
  ``.ruby-version``;
* Node: ``package.json`` ``engines.node`` (npm semver ranges), ``.nvmrc``/``.node-version`` (a version or
  an LTS code name);
* PHP: ``composer.json`` ``require.php`` (Composer constraints).

A file that cannot be read as such a statement is a pin that allows nothing, named by the reason: the
version never moves past something that might forbid it. Versions are compared by their numeric parts
only; a version ``V`` (``"3.12"`` or ``"22"``) is allowed when the constraint admits some release of it
(``V.0``, ``V.99``, or a release the constraint names).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from rewriter.facts.context import Context

Version = tuple[int, ...]

#: Node's LTS code names (``.nvmrc`` may say ``lts/fermium``)
_NODE_LTS = {"argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14, "gallium": 16,
             "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24}


@dataclass(frozen=True)
class Pin:
    """One statement of the project about its language version: ``where`` names it (``pyproject.toml
    requires-python '>=3.8,<3.11'``) without any other content of the file."""

    where: str
    admits: Callable[[str], bool]

    def allows(self, version: str) -> bool:
        return self.admits(version)


def _num(text: str) -> Version | None:
    m = re.fullmatch(r"v?(\d+(?:\.\d+)*)", text.strip())
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _samples(version: str, literals: list[Version]) -> list[Version]:
    """Releases of ``version`` a constraint is tried with: its first and a late one, and any release the
    constraint itself names within it."""
    head = _num(version) or ()
    out = [(*head, 0, 0)[: max(3, len(head))], (*head, 99, 99)[: max(3, len(head))]]
    out += [lit for lit in literals if lit[: len(head)] == head]
    return out


def _exact(where: str, text: str) -> Pin:
    """A plain version (``3.8.10``, ``14``, ``v14.17.0``): only that release line."""
    value = _num(text)
    if value is None:
        return Pin(f"{where} (not read as a version)", lambda _v: False)

    def admits(version: str) -> bool:
        head = _num(version) or ()
        n = min(len(head), len(value))
        return head[:n] == value[:n]

    return Pin(where, admits)


def _cmp(a: Version, b: Version) -> int:
    n = max(len(a), len(b))
    a2, b2 = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a2 > b2) - (a2 < b2)


def _bump(v: Version, at: int) -> Version:
    """The first version past ``v``'s part ``at`` (``_bump((2, 7), 0) == (3,)``)."""
    return (*v[:at], v[at] + 1)


def _comparators(term: str, flavour: str) -> list[tuple[str, Version]] | None:
    """One AND-group of a range as (operator, version) pairs; None when a part is not understood.
    ``flavour`` picks the meaning of ``~``: ``semver`` (npm, Poetry: next minor, or next major when only
    a major is given) or ``pessimistic`` (Composer ``~``, RubyGems ``~>``, PEP 440 ``~=``: bump the
    next-to-last part given)."""
    out: list[tuple[str, Version]] = []
    hyphen = re.fullmatch(r"\s*(\S+)\s+-\s+(\S+)\s*", term)
    if hyphen:
        lo, hi = _num(hyphen.group(1)), _num(re.sub(r"\.[x*]", "", hyphen.group(2)))
        if lo is None or hi is None:
            return None
        return [(">=", lo), ("<", _bump(hi, len(hi) - 1)) if len(hi) < 3 else ("<=", hi)]
    for part in re.findall(r"(?:[<>=!~^]+\s*)?[^\s,<>=!~^]+", term):
        m = re.fullmatch(r"([<>=!~^]*)\s*v?([0-9][0-9.]*|\*|x|X)((?:\.[xX*])*)(?:[-+].*)?", part.strip())
        if m is None:
            return None
        op, raw, wild = m.group(1) or "=", m.group(2), m.group(3)
        if raw in {"*", "x", "X"}:
            continue
        v = _num(raw.rstrip("."))
        if v is None:
            return None
        if op in {"=", "=="} and wild:
            out += [(">=", v), ("<", _bump(v, len(v) - 1))]
        elif op in {"=", "=="} and len(v) < 3 and flavour == "semver":
            out += [(">=", v), ("<", _bump(v, len(v) - 1))]  # npm: `14` means 14.x
        elif op == "^":
            first = next((i for i, p in enumerate(v) if p != 0), len(v) - 1)
            out += [(">=", v), ("<", _bump(v, first))]
        elif op in {"~>", "~="} or (op == "~" and flavour == "pessimistic"):
            out += [(">=", v), ("<", _bump(v, max(len(v) - 2, 0)))]
        elif op == "~":
            out += [(">=", v), ("<", _bump(v, 1 if len(v) > 1 else 0))]
        elif op in {">=", "<=", ">", "<", "!=", "=", "=="}:
            out.append(("=" if op == "==" else op, v))
        else:
            return None
    return out


def _satisfies(v: Version, comparators: list[tuple[str, Version]]) -> bool:
    for op, ref in comparators:
        c = _cmp(v, ref)
        ok = {">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0, "!=": c != 0, "=": c == 0}[op]
        if not ok:
            return False
    return True


def _range(where: str, text: str, flavour: str) -> Pin:
    """An npm/Composer/RubyGems/Poetry range: ``||`` (or Composer's ``|``) between alternatives, spaces
    or commas between the parts of one."""
    groups = []
    for alt in re.split(r"\s*\|\|?\s*", text.strip()):
        comps = _comparators(alt.replace(",", " "), flavour)
        if comps is None:
            return Pin(f"{where} (not understood)", lambda _v: False)
        groups.append(comps)
    literals = [ref for comps in groups for _op, ref in comps]

    def admits(version: str) -> bool:
        return any(_satisfies(s, comps) for comps in groups for s in _samples(version, literals))

    return Pin(where, admits)


def _pep440(where: str, text: str) -> Pin:
    try:
        spec = SpecifierSet(text.replace(" ", ""))
    except InvalidSpecifier:
        return _range(where, text, "semver")  # Poetry's `^3.8` / `~3.8`

    literals = [v for v in (_num(s.version.rstrip(".*")) for s in spec) if v is not None]

    def admits(version: str) -> bool:
        return any(spec.contains(".".join(map(str, s)), prereleases=True) for s in _samples(version, literals))

    return Pin(where, admits)


def _python(ctx: Context) -> list[Pin]:
    found: list[Pin] = []
    text = ctx.read_side(".python-version")
    if text and text.strip():
        found.append(_exact(".python-version", text.strip().splitlines()[0]))
    text = ctx.read_side("runtime.txt")
    if text and text.strip().startswith("python-"):
        found.append(_exact("runtime.txt", text.strip().removeprefix("python-")))
    text = ctx.read_side("pyproject.toml")
    if text:
        import tomllib  # only when there is TOML to read (a few ms at start-up)

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            data = {}
        requires = data.get("project", {}).get("requires-python")
        if isinstance(requires, str):
            found.append(_pep440(f"pyproject.toml requires-python '{requires}'", requires))
        poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
        if isinstance(poetry, str):
            found.append(_pep440(f"pyproject.toml [tool.poetry.dependencies] python '{poetry}'", poetry))
    text = ctx.read_side("Pipfile")
    if text:
        for key in ("python_full_version", "python_version"):
            m = re.search(rf"(?m)^\s*{key}\s*=\s*['\"]([^'\"]+)['\"]", text)
            if m:
                found.append(_exact(f"Pipfile {key} '{m.group(1)}'", m.group(1)))
                break
    for name in ("setup.py", "setup.cfg"):
        text = ctx.read_side(name)
        m = re.search(r"python_requires\s*=\s*['\"]?([^'\"\n]+)['\"]?", text or "")
        if m:
            found.append(_pep440(f"{name} python_requires '{m.group(1).strip()}'", m.group(1).strip()))
    return found


def _ruby(ctx: Context) -> list[Pin]:
    found: list[Pin] = []
    text = ctx.read_side("Gemfile")
    m = re.search(r"(?m)^\s*ruby\s*\(?\s*((?:['\"][^'\"]+['\"]\s*,?\s*)+)", text or "")
    if m:
        parts = re.findall(r"['\"]([^'\"]+)['\"]", m.group(1))
        where = f"Gemfile ruby {', '.join(repr(p) for p in parts)}"
        if len(parts) == 1 and _num(parts[0]) is not None:
            found.append(_exact(where, parts[0]))
        else:
            found.append(_range(where, " ".join(parts), "pessimistic"))
    text = ctx.read_side(".ruby-version")
    if text and text.strip():
        found.append(_exact(".ruby-version", text.strip().splitlines()[0].removeprefix("ruby-")))
    return found


def _node(ctx: Context) -> list[Pin]:
    found: list[Pin] = []
    text = ctx.read_side("package.json")
    if text:
        try:
            engines = json.loads(text).get("engines") or {}
        except (ValueError, AttributeError):
            engines = {}
        node = engines.get("node") if isinstance(engines, dict) else None
        if isinstance(node, str) and node.strip():
            found.append(_range(f"package.json engines.node '{node}'", node, "semver"))
    for name in (".nvmrc", ".node-version"):
        text = ctx.read_side(name)
        if not text or not text.strip():
            continue
        value = text.strip().splitlines()[0].strip()
        code = value.lower().removeprefix("lts/")
        if code in _NODE_LTS:
            found.append(_exact(f"{name} '{value}'", str(_NODE_LTS[code])))
        elif code in {"*", "node", "latest", "current", "stable"}:
            continue  # any version
        else:
            found.append(_exact(f"{name} '{value}'", value))
    return found


def _php(ctx: Context) -> list[Pin]:
    text = ctx.read_side("composer.json")
    if not text:
        return []
    try:
        require = json.loads(text).get("require") or {}
    except (ValueError, AttributeError):
        return []
    php = require.get("php") if isinstance(require, dict) else None
    return [_range(f"composer.json require.php '{php}'", php, "pessimistic")] if isinstance(php, str) else []


_READERS: dict[str, Callable[[Context], list[Pin]]] = {"python": _python, "ruby": _ruby, "node": _node,
                                                       "php": _php}


def pins(ctx: Context, stack: str) -> list[Pin]:
    """The project's statements of which ``stack`` versions it runs on (see the module docstring)."""
    reader = _READERS.get(stack)
    return reader(ctx) if reader is not None else []
