"""What the RUN instructions do: their commands parsed once, the program each runs, package installs.

* :func:`program_index` finds the program a command runs, looking through ``sudo``, ``env``,
  ``exec``, ``nice``, ``xargs`` and the like (``sudo -E apt-get install`` runs ``apt-get``).
* :func:`package_call` reads a package-manager command (apt/apt-get, apk, yum/dnf/microdnf/tdnf,
  pip/``python -m pip``, npm): its subcommand, options and the packages it names.
* :func:`runs_unknown_code` is the one answer to "does this command run code we cannot read?"
  (``./configure``, ``sh build.sh``, ``make``, ``python setup.py``): every codemod asks it.
* :class:`Run` is a RUN's shell view with the WORKDIR it runs in; :meth:`Runs.of` lists a stage's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rewriter.core.shell import Command, Script, Word, parse_shell
from rewriter.core.syntax import Instruction, Stage
from rewriter.facts.scope import Scopes, join

#: POSIX-style shells (a SHELL or ``sh -c`` naming one of these runs shell text)
POSIX_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"})
#: commands that run the command in their arguments: the options of theirs that take a value
WRAPPERS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir"}),
    "xargs": frozenset({"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "eatmydata": frozenset(), "nohup": frozenset(), "time": frozenset(), "command": frozenset(),
    "exec": frozenset(), "stdbuf": frozenset(),
}  # fmt: skip
_APT = frozenset({"apt-get", "apt"})
_RPM = frozenset({"yum", "dnf", "microdnf", "tdnf"})
_PIP = re.compile(r"pip(\d+(\.\d+)*)?$")
_PYTHON = re.compile(r"python(\d+(\.\d+)*)?$")
#: options written before the subcommand that take the next word as their value
_VALUE_OPTS: dict[str, frozenset[str]] = {
    "apt": frozenset({"-o", "-c", "-t", "-a", "--option", "--config-file", "--target-release",
                      "--default-release", "--host-architecture"}),
    "apk": frozenset({"-X", "--repository", "-p", "--root", "--arch", "--cache-dir", "--keys-dir",
                      "--repositories-file", "--cache-max-age", "--timeout"}),
    "pip": frozenset({"--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
                      "--client-cert", "--cache-dir", "--log", "--log-file", "--python", "--use-feature",
                      "--use-deprecated", "--keyring-provider"}),
    "rpm": frozenset({"-c", "--config", "--installroot", "--releasever", "--enablerepo", "--disablerepo",
                      "--setopt", "-d", "-e", "--exclude", "-x", "--repo", "--repoid", "--repofrompath",
                      "--forcearch", "--nobest"}),
    "npm": frozenset({"--prefix", "-C", "--workspace", "-w", "--userconfig", "--cache"}),
}  # fmt: skip
#: options after the subcommand that take the next word as their value (not a package name)
_PACKAGE_VALUE_OPTS: dict[str, frozenset[str]] = {
    "apt": _VALUE_OPTS["apt"],
    "apk": _VALUE_OPTS["apk"] | {"--virtual", "-t"},
    "rpm": _VALUE_OPTS["rpm"],
    "pip": _VALUE_OPTS["pip"] | {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i",
                                 "--index-url", "--extra-index-url", "-f", "--find-links", "--target", "-t",
                                 "--prefix", "--root", "--platform", "--python-version", "--implementation",
                                 "--abi", "--src", "--upgrade-strategy", "--progress-bar", "--no-binary",
                                 "--only-binary", "--report", "-C", "--config-settings"},
    "npm": _VALUE_OPTS["npm"] | {"--omit", "--include", "--registry", "--tag"},
}  # fmt: skip
_SCRIPT_INTERPRETERS = frozenset({"python", "python3", "node", "ruby", "perl"})


def basename(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def program_index(words: Sequence[Word]) -> int | None:
    """Index of the program a command runs, looking through ``sudo``, ``env``, ``xargs`` and the like;
    None when it is not a literal word (``$CMD``) or there is none."""
    i = 0
    while i < len(words):
        word = words[i]
        if not word.is_literal:
            return None
        name = basename(word.text)
        opts = WRAPPERS.get(name)
        if opts is None:
            return i
        i += 1
        while i < len(words):
            text = words[i].text
            if text == "--":
                i += 1
                break
            if text.startswith("-") and len(text) > 1:
                i += 2 if text in opts else 1
                continue
            if name in {"env", "sudo"} and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", text):
                i += 1
                continue
            break
    return None


def program(cmd: Command) -> str:
    """The base name of the program ``cmd`` runs (through wrappers), "" when unknown."""
    i = program_index(cmd.words)
    return basename(cmd.words[i].text) if i is not None else ""


def program_argv(cmd: Command) -> tuple[str, ...]:
    """The words from the program on (``sudo -E apt-get install x`` -> ``apt-get install x``)."""
    i = program_index(cmd.words)
    return cmd.argv[i:] if i is not None else ()


@dataclass(frozen=True)
class PackageCall:
    """A package-manager command: ``tool`` (normalised), its subcommand word and the words after it."""

    cmd: Command
    index: int  #: position of the command in ``Script.commands``
    tool: str  #: "apt-get", "apt", "apk", "pip", "npm", "yum", "dnf", ...
    family: str  #: "apt", "apk", "rpm", "pip", "npm"
    program: str  #: the program as written (basename), e.g. "pip3", "microdnf"
    sub: Word | None
    after_program: tuple[Word, ...]

    @property
    def subcommand(self) -> str:
        return self.sub.text if self.sub is not None else ""

    @property
    def rest(self) -> tuple[Word, ...]:
        """Words after the subcommand."""
        if self.sub is None:
            return ()
        return tuple(w for w in self.after_program if w.start > self.sub.start)

    def has_word(self, *prefixes: str) -> bool:
        return any(w.text == p or w.text.startswith(p + "=") for w in self.after_program for p in prefixes)

    def option(self, *names: str) -> str | None:
        """The value of an option after the subcommand (``--virtual .deps``, ``--virtual=.deps``)."""
        words = [w.text for w in self.rest]
        for i, text in enumerate(words):
            for name in names:
                if text == name and i + 1 < len(words):
                    return words[i + 1]
                if text.startswith(name + "=") and name.startswith("--"):
                    return text.split("=", 1)[1]
        return None

    @property
    def packages(self) -> list[str]:
        """The package names the subcommand names (options and their values skipped, versions cut:
        ``libpq-dev=15.*`` and ``musl-dev>1.2`` name ``libpq-dev`` and ``musl-dev``)."""
        value_opts = _PACKAGE_VALUE_OPTS.get(self.family, frozenset())
        out: list[str] = []
        skip = False
        for w in self.rest:
            if skip:
                skip = False
                continue
            if w.text in value_opts:
                skip = True
                continue
            if w.text.startswith("-") or not w.text:
                continue
            out.append(re.split(r"[=<>~]", w.text, maxsplit=1)[0] if self.family in {"apt", "apk", "rpm"}
                       else w.text)
        return out


def _subcommand_index(words: Sequence[Word], start: int, value_opts: frozenset[str]) -> int | None:
    i = start
    while i < len(words):
        text = words[i].text
        if text == "--":
            return i + 1 if i + 1 < len(words) else None
        if text.startswith("-") and len(text) > 1:
            i += 2 if text in value_opts else 1
            continue
        return i
    return None


def package_call(cmd: Command, index: int = 0) -> PackageCall | None:
    """``cmd`` read as a package-manager command, or None when it is not one."""
    words = cmd.words
    p = program_index(words)
    if p is None:
        return None
    prog = basename(words[p].text)
    start = p + 1
    tool = prog
    if prog in _APT:
        family = "apt"
    elif prog == "apk":
        family = "apk"
    elif prog in _RPM:
        family = "rpm"
    elif prog == "npm":
        family = "npm"
    elif _PIP.match(prog):
        tool, family = "pip", "pip"
    elif _PYTHON.match(prog):
        # python [-u -B ...] -m pip ...
        i = start
        while i < len(words) and words[i].text.startswith("-") and words[i].text not in {"-m", "-mpip"}:
            i += 2 if words[i].text in {"-W", "-X"} else 1
        if i < len(words) and words[i].text == "-mpip":
            start = i + 1
        elif i + 1 < len(words) and words[i].text == "-m" and words[i + 1].text == "pip":
            start = i + 2
        else:
            return None
        tool, family = "pip", "pip"
    else:
        return None
    s = _subcommand_index(words, start, _VALUE_OPTS[family])
    return PackageCall(cmd, index, tool, family, prog, words[s] if s is not None else None, tuple(words[start:]))


def package_calls(script: Script) -> tuple[PackageCall, ...]:
    """The package-manager commands of a script, in order.

    Kept per script (by identity: :func:`~rewriter.core.shell.parse_shell` hands out one ``Script``
    per text), as every round and codemod asks about the same RUNs; the answer is immutable."""
    kept = _PACKAGE_CALLS.get(id(script))
    if kept is not None and kept[0] is script:
        return kept[1]
    out = tuple(call for i, cmd in enumerate(script.commands) if (call := package_call(cmd, i)) is not None)
    if len(_PACKAGE_CALLS) >= 4096:
        _PACKAGE_CALLS.clear()
    _PACKAGE_CALLS[id(script)] = (script, out)  # the script is held, so its id is not reused meanwhile
    return out


_PACKAGE_CALLS: dict[int, tuple[Script, tuple[PackageCall, ...]]] = {}


def runs_unknown_code(cmd: Command) -> bool:
    """Does ``cmd`` run code whose commands are not in the Dockerfile? ``./configure``,
    ``/opt/setup.sh``, ``make``, ``sh build.sh``, ``bash -e setup``, ``python setup.py``,
    ``node build.js``; not ``sh -c '…'`` (its text is the command) nor ``node -e '…'``."""
    name = basename(cmd.name)
    if cmd.name.startswith("./") or name.endswith(".sh") or name == "make":
        return True
    args = cmd.argv[1:]
    operands = [a for a in args if not a.startswith("-")]
    if name in POSIX_SHELLS:
        inline = any(a.startswith("-") and not a.startswith("--") and "c" in a for a in args)
        return bool(operands) and not inline
    if name in _SCRIPT_INTERPRETERS or _PYTHON.match(name):
        return bool(operands) and "-c" not in args and "-e" not in args
    return False


@dataclass(frozen=True)
class Run:
    """A RUN instruction's shell view, parsed once, with the WORKDIR it runs in."""

    inst: Instruction
    offset: int  #: offset in ``inst.raw`` where the shell text starts
    script: Script | None  #: None for exec form and heredoc RUNs
    workdir: str | None  #: absolute; None when set from a variable not known here

    @property
    def commands(self) -> tuple[Command, ...]:
        return self.script.commands if self.script is not None else ()

    def pos(self, shell_pos: int) -> int:
        """A position in the shell text as an offset in the Dockerfile."""
        return self.inst.start + self.offset + shell_pos

    def path(self, word: str) -> str | None:
        """``word`` as an absolute path in this RUN's working directory (None: not known)."""
        if word.startswith("/"):
            return join("/", word)
        return join(self.workdir, word) if self.workdir is not None else None


class Runs:
    """The RUN instructions of one tree, each parsed the first time it is asked for."""

    def __init__(self, scopes: Scopes) -> None:
        self.scopes = scopes
        self._runs: dict[int, Run] = {}

    def run(self, inst: Instruction) -> Run:
        found = self._runs.get(inst.start)
        if found is None:
            workdir = self.scopes.workdir_at(inst)
            if inst.is_json or inst.heredocs:
                found = Run(inst, inst.args_start, None, workdir)
            else:
                text, offset = inst.shell_text()
                found = Run(inst, offset, parse_shell(text), workdir)
            self._runs[inst.start] = found
        return found

    def of(self, stage: Stage) -> list[Run]:
        """The stage's RUNs, in order."""
        return [self.run(i) for i in stage.instructions if i.keyword == "RUN"]

    def commands(self, stage: Stage) -> list[tuple[Instruction, Command]]:
        """Every shell command of the stage's shell-form RUNs (heredoc RUNs excluded), in order."""
        return [(r.inst, c) for r in self.of(stage) for c in r.commands]
