"""The kept code of dataclasses' generated methods (rewriter.core.classcode, issue 25: start-up).

What must hold: a class made through the hook is the class ``dataclasses`` makes without it (same
methods, same code, same behaviour), a second process compiles none of dockerfix's classes again, and
a damaged or missing file, or caching turned off, only costs the compile it would have saved.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewriter.core import classcode

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("__init__", "__repr__", "__eq__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__setattr__",
           "__delattr__")


def _make(spec: dict[str, Any], exec_: Any) -> type:
    """The dataclass ``spec`` describes, created with ``exec_`` standing for the dataclasses module's exec."""
    annotations = {f"f{i}": kind for i, (kind, _default) in enumerate(spec["fields"])}
    ns: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    for i, (_kind, default) in enumerate(spec["fields"]):
        if default == "factory":
            ns[f"f{i}"] = dataclasses.field(default_factory=list)
        elif default is not None:
            ns[f"f{i}"] = default
    cls = type("Probe", (), ns)
    saved = dataclasses.__dict__.get("exec")
    dataclasses.exec = exec_  # type: ignore[attr-defined]
    try:
        return dataclasses.dataclass(frozen=spec["frozen"], eq=spec["eq"], order=spec["order"] and spec["eq"],
                                     unsafe_hash=spec["unsafe_hash"], kw_only=spec["kw_only"])(cls)
    finally:
        if saved is None:
            del dataclasses.exec  # type: ignore[attr-defined]
        else:
            dataclasses.exec = saved  # type: ignore[attr-defined]


FIELD = st.tuples(st.sampled_from(["int", "str", "list[str]"]),
                  st.sampled_from([None, 0, "factory"]))
SPEC = st.fixed_dictionaries({
    "fields": st.lists(FIELD, max_size=5).map(lambda fs: sorted(fs, key=lambda f: f[1] is not None)),
    "frozen": st.booleans(), "eq": st.booleans(), "order": st.booleans(), "unsafe_hash": st.booleans(),
    "kw_only": st.booleans(),
})


@settings(max_examples=150, deadline=None)
@given(SPEC)
def test_a_class_made_through_the_hook_is_the_class_dataclasses_makes(spec: dict[str, Any]) -> None:
    plain = _make(spec, builtins.exec)
    hooked = _make(spec, classcode._exec)
    again = _make(spec, classcode._exec)  # this time every text is served from the kept code
    for cls in (hooked, again):
        for name in METHODS:
            a, b = plain.__dict__.get(name), cls.__dict__.get(name)
            assert (a is None) == (b is None), name
            a, b = getattr(a, "__wrapped__", a), getattr(b, "__wrapped__", b)  # __repr__ has a guard around it
            if a is not None and b is not None and hasattr(a, "__code__"):
                assert a.__code__ == b.__code__, name
                assert a.__code__.co_filename == b.__code__.co_filename == "<string>"
                assert a.__annotations__ == b.__annotations__, name
                assert a.__defaults__ == b.__defaults__ and a.__kwdefaults__ == b.__kwdefaults__, name
        assert [f.name for f in dataclasses.fields(cls)] == [f.name for f in dataclasses.fields(plain)]
        assert cls.__doc__ == plain.__doc__


def test_the_kept_code_behaves_as_compiled_code() -> None:
    spec = {"fields": [("int", None), ("str", 0)], "frozen": True, "eq": True, "order": False, "unsafe_hash": False,
            "kw_only": False}
    _make(spec, classcode._exec)
    cls = _make(spec, classcode._exec)
    a, b = cls(1), cls(1, "x")
    assert repr(a) == "Probe(f0=1, f1=0)"
    assert a == cls(1) and a != b and hash(a) == hash(cls(1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.f0 = 2  # type: ignore[misc]


PROBE = """
import json, sys
import rewriter.faces.cli, rewriter.engine.batch, transforms
from transforms import selected
selected(None)
from rewriter.core import classcode
import dataclasses
print(json.dumps({"hooked": getattr(dataclasses, "exec", None) is classcode._exec,
                  "compiled": classcode._state["dirty"], "kept": len(classcode._codes)}))
"""


def _probe(cache: str) -> dict[str, Any]:
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def test_a_second_process_compiles_none_of_dockerfixs_classes_again(tmp_path: Path) -> None:
    first = _probe(str(tmp_path))
    assert first["hooked"] and first["compiled"] and first["kept"] > 50
    (kept,) = (tmp_path / "code").glob("dataclasses-*.marshal")  # written at exit
    second = _probe(str(tmp_path))
    assert second["hooked"] and not second["compiled"], "every generated method was compiled again"
    assert second["kept"] == first["kept"]
    kept.write_bytes(b"\x00damaged")
    third = _probe(str(tmp_path))  # a damaged file: compiled as without it, and replaced
    assert third["compiled"] and third["kept"] == first["kept"]
    assert not _probe(str(tmp_path))["compiled"]


def test_caching_off_leaves_dataclasses_alone(tmp_path: Path) -> None:
    off = _probe("")
    assert not off["hooked"] and off["kept"] == 0


def test_a_library_user_of_the_syntax_tree_gets_no_hook_and_no_file(tmp_path: Path) -> None:
    """Only the command line installs it: a program importing rewriter keeps its dataclasses as they are."""
    probe = ("import dataclasses, rewriter\nfrom rewriter import parse\nparse('FROM scratch\\n')\n"
             "print('exec' in vars(dataclasses))")
    env = {**os.environ, "DOCKERFIX_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert not (tmp_path / "code").exists()


def test_a_worker_keeps_what_it_compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked worker ends without atexit: the end of each chunk saves."""
    from rewriter.engine.batch import Settings, process_chunk

    target = tmp_path / "code" / "kept.marshal"
    monkeypatch.setitem(classcode._state, "file", target)
    monkeypatch.setitem(classcode._state, "dirty", True)
    process_chunk(Settings(mode="check"), [])
    assert target.is_file() and not classcode._state["dirty"]


def test_the_kept_code_is_the_users_own_file(tmp_path: Path) -> None:
    """Written 0600; a file that group or others may write is not loaded (then replaced), as Jinja's
    bytecode cache does: code in a shared folder must not become another user's code."""
    first = _probe(str(tmp_path))
    (kept,) = (tmp_path / "code").glob("dataclasses-*.marshal")
    assert kept.stat().st_mode & 0o777 == 0o600
    kept.chmod(0o666)
    loosened = _probe(str(tmp_path))
    assert loosened["compiled"], "a file others may write was loaded"
    assert kept.stat().st_mode & 0o777 == 0o600 and loosened["kept"] == first["kept"]
    assert not _probe(str(tmp_path))["compiled"]
