"""The ``multistage`` codemod beyond its golden cases: corpus, all-codemod stability, image facts."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import dockerfile
import pytest
from codemod import assert_codemod
from corpus_files import corpus_params, read_text
from portability import assert_portable

from rewriter import parse
from rewriter.engine.pipeline import Status, process_text
from rewriter.facts import parse_image
from transforms import load
from transforms._data import load as load_data
from transforms.multistage import TRANSFORM
from transforms.multistage.plan import TODAY
from transforms.multistage.samefamily import family_alive, version_of

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "multistage"


def _run(text: str, ctx: Path | None = None):
    return process_text(text, context_dir=ctx, transforms=[TRANSFORM], unsafe_fixes=True)


@pytest.mark.parametrize("cf", corpus_params())
def test_corpus_no_crash_and_outputs_parse(cf) -> None:
    source = read_text(cf.path)
    r = _run(source)
    assert r.status != Status.ERROR, r.error
    assert not r.internal_errors
    if r.changed:
        dockerfile.parse_string(r.new_text)
        assert_portable(r)
        assert _run(r.new_text).new_text == r.new_text


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.Dockerfile").exists()))
def test_all_codemods_are_stable_on_the_split_file(case: str) -> None:
    """After the split, a run of every codemod converges and a second run changes nothing."""
    text = read_text(GOLDEN / case / "Dockerfile")
    once = process_text(text, context_dir=GOLDEN / case, unsafe_fixes=True)
    assert once.status == Status.CHANGED and not once.internal_errors
    assert any(f.transform == "multistage" for f in once.fixes)
    twice = process_text(once.new_text, context_dir=GOLDEN / case, unsafe_fixes=True)
    assert twice.new_text == once.new_text
    stages = parse(once.new_text).stages
    messages = " ".join(f.message for f in once.fixes)
    upgraded = len(stages) == 1 and "no runtime stage" in messages
    rebased = len(stages) == 1 and "prebuilt" in messages  # a prebuilt binary or jar: its base only moves
    assert any(i.keyword == "COPY" and i.flag("from") for i in stages[-1].instructions) or \
        "distroless" in stages[-1].base or upgraded or rebased
    if len(parse(text).stages) < len(stages):  # a split (a static binary only changes its base)
        # the builder never gets a user created by nonroot: the split came first
        assert not any(i.keyword == "USER" for i in stages[-2].instructions)


def _family_versions(text: str) -> dict[str, set[str]]:
    """The language versions of the FROM lines of ``text`` that name a family image (python, node, …)."""
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"(?m)^FROM (\S+)", text):
        image = parse_image(m.group(1))
        if image.short_name not in {"python", "node", "ruby", "php", "eclipse-temurin"}:
            continue
        stack = "java" if image.short_name == "eclipse-temurin" else image.short_name
        version, _moving = version_of(stack, image)
        assert version is not None, m.group(1)
        out.setdefault(stack, set()).add(version)
    return out


def test_no_emitted_image_is_past_end_of_life_or_debian12() -> None:
    """A runtime image the split picks is one its publisher still updates — except that the split keeps
    the builder's own language version: a same-family runtime of an end-of-life version is emitted only
    when the input already ran on that version (the note recommends ``upgrade``)."""
    data = load_data("runtimes")
    rows = [data["distroless"][k] for k in data["distroless"]]
    for lang in ("python", "node", "java", "dotnet"):
        rows += list(data[lang].values())
    rows += list(load_data("cgo")["runtimes"].values())  # a cgo binary's Debian/Alpine runtime (issue 23)
    alive = {img for r in rows if datetime.date.fromisoformat(str(r["eol"])) > TODAY
             for img in (r.get("image"), r.get("aspnet"), r.get("runtime_deps")) if img}
    emitted: set[str] = set()
    kept_eol = 0
    for expected in GOLDEN.glob("*/expected.Dockerfile"):
        text = expected.read_text()
        emitted |= {m.group(1) for m in re.finditer(r"(?m)^FROM (\S+)$", text)}
        before = _family_versions((expected.parent / "Dockerfile").read_text())
        for stack, versions in _family_versions(text).items():
            for version in versions:
                if not family_alive(stack, version):
                    assert version in before.get(stack, set()), (expected, stack, version)
                    kept_eol += 1
    runtimes = {e for e in emitted if "distroless" in e or "chiseled" in e or e.endswith("-slim")}
    assert runtimes, "the golden cases emit runtime images"
    assert kept_eol, "some golden case keeps an end-of-life version (the rule is exercised)"
    family = {e for e in emitted if parse_image(e).short_name in {"python", "node", "ruby", "php", "eclipse-temurin"}}
    assert runtimes - family <= alive, (runtimes - family) - alive
    assert not any("debian12" in e for e in emitted)


def test_today_is_the_checked_date_of_the_table() -> None:
    """The end-of-life check uses the date the table was reviewed (read from the table, not kept in
    code), and that date is not in the future of the session that last checked the images."""
    import datetime

    assert datetime.date.fromisoformat(str(load_data("runtimes")["checked"])) == TODAY
    assert datetime.date(2026, 12, 31) >= TODAY


def test_explain_lists_stacks_and_refusals() -> None:
    text = load("multistage").explain
    for word in ("Go", "Rust", "Python", "Node", "Java", ".NET", "Windows", "Alpine", "end of life", "shell"):
        assert word in text


def test_configuration_overrides_the_runtime_image() -> None:
    go = """
        FROM golang:1.24
        WORKDIR /src
        COPY . .
        RUN go build -o /out/app .
        ENTRYPOINT ["/out/app"]
        """
    assert_codemod(go, """
        FROM golang:1.24 AS build
        WORKDIR /src
        COPY . .
        RUN CGO_ENABLED=0 go build -o /out/app .

        FROM gcr.io/distroless/static-debian13:nonroot
        COPY --from=build /out/app /out/app
        WORKDIR /src
        ENTRYPOINT ["/out/app"]
        """, transform="multistage", unsafe=True, config={"images": {}})
    py = """
        FROM python:3.13-slim
        WORKDIR /a
        COPY . .
        RUN pip install -r r.txt
        CMD ["python", "m.py"]
        """
    assert_codemod(py, """
        FROM python:3.13-slim AS build
        WORKDIR /a
        COPY . .
        RUN pip install -r r.txt

        FROM registry.example.com/py313:nonroot
        COPY --from=build /usr/local/lib/python3.13/site-packages /usr/local/lib/python3.13/dist-packages
        COPY --from=build /a /a
        WORKDIR /a
        ENTRYPOINT []
        CMD ["/usr/bin/python3", "m.py"]
        """, transform="multistage", unsafe=True,
        config={"images": {"python-3.13": "registry.example.com/py313:nonroot"}},
        notes=["runtime registry.example.com/py313:nonroot"])


def test_static_elf_detection(tmp_path: Path) -> None:
    from transforms.multistage.compiled import _static_elf

    static = GOLDEN / "static-binary" / "bin" / "server"
    dynamic = GOLDEN / "dynamic-binary" / "bin" / "server"
    assert _static_elf(static) and not _static_elf(dynamic)
    (tmp_path / "script").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "short").write_bytes(b"\x7fELF\x02\x01")
    assert not _static_elf(tmp_path / "script") and not _static_elf(tmp_path / "short")


def test_a_refusal_that_a_later_round_overcame_is_not_reported() -> None:
    """Round 1: the CMD redirect needs a shell, so the split refuses; logs removes the redirect and
    the split happens in a later round. The report describes the result: no stale refusal."""
    text = ("FROM python:3.13-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
            "CMD python app.py >> /var/log/app.log 2>&1\n")
    r = process_text(text, unsafe_fixes=True)
    assert any(f.transform == "multistage" for f in r.fixes)
    assert not any(n.transform == "multistage" for n in r.notes), r.notes
    only_split = assert_codemod(text, None, transform="multistage", unsafe=True)
    assert any("needs a shell" in n.message for n in only_split.notes)


def test_trailing_user_of_the_builder_is_dropped_and_runtime_stays_nonroot() -> None:
    text = ("FROM golang:1.24\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n"
            "RUN useradd -u 1001 app\nUSER 1001\nCMD [\"/out/app\"]\n")
    r = process_text(text, unsafe_fixes=True)
    stages = parse(r.new_text).stages
    assert [i.keyword for i in stages[0].instructions].count("USER") == 0
    assert stages[-1].base == "gcr.io/distroless/static-debian13:nonroot"
    assert process_text(r.new_text, unsafe_fixes=True).new_text == r.new_text


@pytest.mark.parametrize(
    ("check", "kept"),
    [
        ("CMD curl -f http://localhost:8000/health || exit 1", True),
        ("CMD curl --fail -s http://localhost:8000/", True),
        ('CMD ["wget", "-q", "--spider", "http://localhost:8000/"]', True),
        ("CMD curl http://localhost:8000/health", False),  # no -f: curl passes on HTTP errors
        ("CMD curl -f http://localhost:8000/ | grep ok", False),
        ("CMD pg_isready", False),
    ],
)
def test_health_check_probe_in_the_runtime(check: str, kept: bool) -> None:
    text = ("FROM python:3.13-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
            f"HEALTHCHECK {check}\nCMD [\"python\", \"app.py\"]\n")
    r = _run(text)
    runtime = r.new_text.split("FROM gcr.io/distroless/python3-debian13:nonroot", 1)[1]
    assert ("HEALTHCHECK CMD [\"/usr/bin/python3\", \"-c\"" in runtime) is kept
    if not kept:
        assert "HEALTHCHECK" not in runtime
        assert any("HEALTHCHECK" in f.message and "left out" in f.message for f in r.fixes)
