"""Tests for ``rewriter.core.edits`` (Tracked, apply_edits, apply_fixes) and ``rewriter.core.diff``."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from strategies import edit_spans, plain_texts
from unidiff import PatchSet

from rewriter.core.diff import check_patch, unified_diff
from rewriter.core.edits import (
    Applicability,
    Edit,
    Fix,
    NotConverged,
    Note,
    Tracked,
    apply_edits,
    apply_fixes,
    select_round,
)
from rewriter.core.syntax import parse

HYPOTHESIS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_sorted_disjoint(edits: list[Edit]) -> None:
    for a, b in itertools.pairwise(edits):
        assert a.end <= b.start, (a, b)
    for e in edits:
        assert 0 <= e.start <= e.end
        assert e.content or e.end > e.start, f"empty net edit {e}"


# --------------------------------------------------------------------------- apply_edits, Tracked


def test_apply_edits_basics() -> None:
    text = "0123456789"
    assert apply_edits(text, []) == text
    assert apply_edits(text, [Edit(8, 10, "X"), Edit(0, 0, "<"), Edit(2, 4)]) == "<014567X"
    assert apply_edits(text, [Edit.insert(10, "!"), Edit.delete(0, 1)]) == "123456789!"
    with pytest.raises(ValueError, match="overlapping"):
        apply_edits(text, [Edit(0, 5, "a"), Edit(4, 6, "b")])


def test_tracked_two_rounds_in_current_coordinates() -> None:
    t = Tracked("FROM a\nRUN x\n")
    t.apply([Edit(0, 4, "from"), Edit(7, 7, "# hi\n")])
    assert t.text == "from a\n# hi\nRUN x\n"
    # second round: coordinates are in the *current* text
    t.apply([Edit(12, 15, "CMD"), Edit(5, 6, "b")])
    assert t.text == "from b\n# hi\nCMD x\n"
    assert t.net_edits() == [Edit(0, 4, "from"), Edit(5, 6, "b"), Edit(7, 10, "# hi\nCMD")]
    assert apply_edits(t.original, t.net_edits()) == t.text


def test_tracked_undo_is_no_change_but_inserted_text_is_tracked() -> None:
    t = Tracked("abc")
    t.apply([Edit(1, 2, "")])
    t.apply([Edit(1, 1, "b")])
    assert t.text == "abc"
    # the "b" is inserted text now, so it is still reported (as a replacement of b by b)
    assert apply_edits("abc", t.net_edits()) == "abc"
    empty = Tracked("")
    assert empty.net_edits() == []
    empty.apply([Edit(0, 0, "x\n")])
    assert empty.net_edits() == [Edit(0, 0, "x\n")]


@st.composite
def tracked_rounds(draw: st.DrawFn) -> tuple[str, list[list[tuple[int, int, str]]]]:
    original = draw(plain_texts())
    text = original
    rounds = []
    for _ in range(draw(st.integers(1, 5))):
        spans = draw(edit_spans(text))
        rounds.append(spans)
        text = apply_edits(text, [Edit(s, e, c) for s, e, c in spans])
    return original, rounds


@HYPOTHESIS
@given(tracked_rounds())
def test_tracked_net_edits_reproduce_text(case: tuple[str, list[list[tuple[int, int, str]]]]) -> None:
    original, rounds = case
    tracked = Tracked(original)
    expected = original
    for spans in rounds:
        edits = [Edit(s, e, c) for s, e, c in spans]
        tracked.apply(edits)
        expected = apply_edits(expected, edits)
        assert tracked.text == expected
    net = tracked.net_edits()
    note(repr(net))
    assert_sorted_disjoint(net)
    assert all(e.end <= len(original) for e in net)
    assert apply_edits(original, net) == tracked.text
    if tracked.text == original:
        assert all(original[e.start : e.end] == e.content for e in net)


# --------------------------------------------------------------------------- unified_diff

GIT = shutil.which("git")


def git_apply(original: str, diff: str, path: str = "x") -> str:
    """Apply ``diff`` to a file ``path`` holding ``original`` with ``git apply``; return the new text."""
    assert GIT, "git is required"
    with tempfile.TemporaryDirectory() as d:
        target = os.path.join(d, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", newline="", encoding="utf-8") as fh:
            fh.write(original)
        with open(os.path.join(d, "p.diff"), "w", newline="", encoding="utf-8") as fh:
            fh.write(diff)
        env = {
            **os.environ,
            "GIT_CEILING_DIRECTORIES": os.path.dirname(d),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
        proc = subprocess.run(
            [GIT, "apply", "--whitespace=nowarn", "p.diff"], cwd=d, capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, f"git apply failed: {proc.stderr}\n{diff}"
        with open(target, newline="", encoding="utf-8") as fh:
            return fh.read()


def hunks(diff: str):
    (pf,) = PatchSet(diff)
    return list(pf)


@HYPOTHESIS
@given(st.data())
def test_unified_diff_applies_with_git(data: st.DataObject) -> None:
    original = data.draw(plain_texts(), label="original")
    edits = [Edit(s, e, c) for s, e, c in data.draw(edit_spans(original), label="edits")]
    expected = apply_edits(original, edits)
    diff = unified_diff("x", original, edits)
    note(f"diff={diff!r}")
    if expected == original:
        assert diff == ""
        return
    patch = PatchSet(diff)
    assert len(patch) == 1
    (pf,) = patch
    assert (pf.source_file, pf.target_file) == ("a/x", "b/x")
    assert check_patch(diff) == 1
    for h in pf:
        assert h.source_length == sum(1 for ln in h if ln.is_context or ln.is_removed)
        assert h.target_length == sum(1 for ln in h if ln.is_context or ln.is_added)
    assert git_apply(original, diff) == expected


def test_unified_diff_empty_when_nothing_changes() -> None:
    text = "FROM a\nRUN x\n"
    assert unified_diff("Dockerfile", text, []) == ""
    assert unified_diff("Dockerfile", text, [Edit(0, 4, "FROM")]) == ""
    assert unified_diff("Dockerfile", "", []) == ""


def test_unified_diff_headers_and_context() -> None:
    lines = [f"line {i}\n" for i in range(1, 11)]
    text = "".join(lines)
    start = text.index("line 5")
    diff = unified_diff("./dir/Dockerfile", text, [Edit(start, start + len("line 5"), "LINE 5")])
    assert diff == (
        "--- a/dir/Dockerfile\n"
        "+++ b/dir/Dockerfile\n"
        "@@ -2,7 +2,7 @@\n"
        " line 2\n line 3\n line 4\n"
        "-line 5\n"
        "+LINE 5\n"
        " line 6\n line 7\n line 8\n"
    )
    (h,) = hunks(diff)
    assert (h.source_start, h.source_length, h.target_start, h.target_length) == (2, 7, 2, 7)
    assert git_apply(text, diff, "dir/Dockerfile") == text.replace("line 5", "LINE 5")


def test_unified_diff_windows_path_separators() -> None:
    diff = unified_diff("sub\\Dockerfile", "a\n", [Edit(0, 1, "b")])
    assert diff.startswith("--- a/sub/Dockerfile\n+++ b/sub/Dockerfile\n")


def test_no_newline_marker_old_side() -> None:
    text = "FROM a\nRUN x"
    diff = unified_diff("x", text, [Edit(len(text), len(text), "\n")])
    assert diff.endswith("-RUN x\n\\ No newline at end of file\n+RUN x\n")
    assert diff.count("\\ No newline at end of file") == 1
    assert git_apply(text, diff) == text + "\n"


def test_no_newline_marker_new_side() -> None:
    text = "FROM a\nRUN x\n"
    diff = unified_diff("x", text, [Edit(len(text) - 1, len(text), "")])
    assert diff.endswith("-RUN x\n+RUN x\n\\ No newline at end of file\n")
    assert diff.count("\\ No newline at end of file") == 1
    assert git_apply(text, diff) == "FROM a\nRUN x"


def test_no_newline_marker_both_sides() -> None:
    text = "FROM a\nRUN x"
    diff = unified_diff("x", text, [Edit(len(text) - 1, len(text), "y")])
    assert diff.endswith("-RUN x\n\\ No newline at end of file\n+RUN y\n\\ No newline at end of file\n")
    assert git_apply(text, diff) == "FROM a\nRUN y"


def test_no_newline_marker_on_context_line() -> None:
    text = "a\nb\nc"
    diff = unified_diff("x", text, [Edit(0, 1, "A")])
    assert diff.endswith(" c\n\\ No newline at end of file\n")
    (h,) = hunks(diff)
    assert (h.source_length, h.target_length) == (3, 3)
    assert git_apply(text, diff) == "A\nb\nc"


def test_crlf_lines_keep_their_endings() -> None:
    text = "FROM a\r\nRUN x\r\nCMD y\r\n"
    start = text.index("x")
    diff = unified_diff("x", text, [Edit(start, start + 1, "z")])
    assert "-RUN x\r\n+RUN z\r\n" in diff
    assert " FROM a\r\n" in diff
    assert " CMD y\r\n" in diff
    assert "\\ No newline" not in diff
    # headers are plain LF
    assert diff.startswith("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n")
    assert git_apply(text, diff) == "FROM a\r\nRUN z\r\nCMD y\r\n"


def test_insert_crlf_line_into_crlf_file() -> None:
    text = "FROM a\r\nCMD y\r\n"
    at = text.index("CMD")
    diff = unified_diff("x", text, [Edit.insert(at, "USER app\r\n")])
    assert "+USER app\r\n" in diff
    (h,) = hunks(diff)
    assert (h.source_start, h.source_length, h.target_start, h.target_length) == (1, 2, 1, 3)
    assert git_apply(text, diff) == "FROM a\r\nUSER app\r\nCMD y\r\n"


def _numbered(n: int) -> str:
    return "".join(f"l{i}\n" for i in range(1, n + 1))


def _replace_line(text: str, i: int, new: str) -> Edit:
    s = text.index(f"l{i}\n")
    return Edit(s, s + len(f"l{i}"), new)


def test_far_apart_edits_give_two_hunks() -> None:
    text = _numbered(30)
    edits = [_replace_line(text, 3, "X"), _replace_line(text, 25, "Y")]
    diff = unified_diff("x", text, edits)
    hs = hunks(diff)
    assert len(hs) == 2
    assert [(h.source_start, h.source_length, h.target_start, h.target_length) for h in hs] == [
        (1, 6, 1, 6),
        (22, 7, 22, 7),
    ]
    assert len(re.findall(r"^@@ ", diff, flags=re.M)) == 2
    assert git_apply(text, diff) == apply_edits(text, edits)


def test_edits_seven_lines_apart_share_one_hunk() -> None:
    # 6 unchanged lines between them: the two contexts of 3 touch, so one hunk
    text = _numbered(30)
    edits = [_replace_line(text, 10, "X"), _replace_line(text, 17, "Y")]
    (h,) = hunks(unified_diff("x", text, edits))
    assert (h.source_start, h.source_length) == (7, 14)
    # 7 unchanged lines between them: two hunks
    edits = [_replace_line(text, 10, "X"), _replace_line(text, 18, "Y")]
    assert len(hunks(unified_diff("x", text, edits))) == 2


def test_hunk_counts_with_insertions_and_deletions() -> None:
    text = _numbered(30)
    s4 = text.index("l4\n")
    s20 = text.index("l20\n")
    edits = [Edit.insert(s4, "new a\nnew b\n"), Edit.delete(s20, s20 + len("l20\nl21\nl22\n"))]
    diff = unified_diff("x", text, edits)
    hs = hunks(diff)
    assert [(h.source_start, h.source_length, h.target_start, h.target_length) for h in hs] == [
        (1, 6, 1, 8),
        (17, 9, 19, 6),
    ]
    assert [h.added for h in hs] == [2, 0]
    assert [h.removed for h in hs] == [0, 3]
    assert git_apply(text, diff) == apply_edits(text, edits)


def test_diff_of_empty_file_and_to_empty_file() -> None:
    diff = unified_diff("x", "", [Edit.insert(0, "FROM a\n")])
    assert "@@ -0,0 +1 @@\n+FROM a\n" in diff
    assert git_apply("", diff) == "FROM a\n"
    text = "FROM a\nRUN b\n"
    diff = unified_diff("x", text, [Edit.delete(0, len(text))])
    assert "@@ -1,2 +0,0 @@\n-FROM a\n-RUN b\n" in diff
    assert git_apply(text, diff) == ""


def test_check_patch_counts_files() -> None:
    one = unified_diff("a", "x\n", [Edit(0, 1, "y")])
    two = one + unified_diff("b", "x\n", [Edit(0, 1, "z")])
    assert check_patch(one) == 1
    assert check_patch(two) == 2


# --------------------------------------------------------------------------- apply_fixes

DOCKERFILE = "FROM a\nRUN foo bar\nUSER root\n"


def validate(text: str) -> None:
    parse(text).validate()


def span_of(text: str, needle: str) -> tuple[int, int]:
    s = text.index(needle)
    return s, s + len(needle)


def replace_fix(text: str, transform: str, needle: str, new: str, **kw) -> Fix | None:
    if needle not in text or new in text:
        return None
    s, e = span_of(text, needle)
    return Fix(transform, f"{needle} -> {new}", (Edit(s, e, new),), **kw)


def proposer(*makers):
    """A fake ``propose``: each maker maps the current Dockerfile text to a Fix/Note or None."""
    calls: list[str] = []

    def propose(texts: dict[str | None, str]):
        calls.append(texts[None])
        return [item for m in makers if (item := m(texts[None])) is not None]

    propose.calls = calls  # type: ignore[attr-defined]
    return propose


def test_overlapping_fix_is_deferred_and_applied_next_round() -> None:
    def upper(text: str) -> Fix | None:
        return replace_fix(text, "a-upper", "foo", "FOO")

    def args(text: str) -> Fix | None:
        # rewrites the whole argument list, which overlaps ``upper``'s edit
        line = next(ln for ln in text.splitlines() if ln.startswith("RUN "))
        if "bar" not in line:
            return None
        s, e = span_of(text, line[4:])
        return Fix("b-args", "bar -> qux", (Edit(s, e, line[4:].replace("bar", "qux")),))

    propose = proposer(args, upper)
    result = apply_fixes({None: DOCKERFILE}, propose, validate)
    assert result.texts[None] == "FROM a\nRUN FOO qux\nUSER root\n"
    assert [f.transform for f in result.applied] == ["a-upper", "b-args"]
    assert result.rounds == 2
    assert len(propose.calls) == 3  # two rounds with fixes, one that proposes nothing
    assert propose.calls[1] == "FROM a\nRUN FOO bar\nUSER root\n"
    assert result.internal_errors == []
    assert apply_edits(DOCKERFILE, result.net_edits[None]) == result.texts[None]


def test_select_round_defers_overlaps_and_same_point_insertions() -> None:
    a = Fix("a", "m", (Edit(5, 10, "x"),))
    b = Fix("b", "m", (Edit(8, 12, "y"),))
    c = Fix("c", "m", (Edit(12, 12, "z"),))
    d = Fix("d", "m", (Edit(12, 12, "w"),))
    e = Fix("e", "m", (Edit(0, 2, "v"),))
    chosen, deferred = select_round([d, c, b, a, e])
    assert [f.transform for f in chosen] == ["e", "a", "c"]
    assert [f.transform for f in deferred] == ["b", "d"]
    # edits to different files never overlap
    side = Fix("s", "m", (Edit(5, 10, "x", path="run.sh"),))
    assert select_round([a, side])[1] == []


def test_fixes_are_applied_in_position_order() -> None:
    def user(text: str) -> Fix | None:
        return replace_fix(text, "a-user", "USER root", "USER app")

    def base(text: str) -> Fix | None:
        return replace_fix(text, "z-base", "FROM a", "FROM a:1")

    def run(text: str) -> Fix | None:
        return replace_fix(text, "m-run", "foo", "baz")

    result = apply_fixes({None: DOCKERFILE}, proposer(user, run, base), validate)
    assert [f.transform for f in result.applied] == ["z-base", "m-run", "a-user"]
    assert result.rounds == 1
    assert result.texts[None] == "FROM a:1\nRUN baz bar\nUSER app\n"


def test_fix_breaking_the_file_is_discarded_and_reported() -> None:
    def breaker(text: str) -> Fix | None:
        return replace_fix(text, "breaker", "FROM", "FORM", line=1)

    def good(text: str) -> Fix | None:
        return replace_fix(text, "good", "USER root", "USER app")

    propose = proposer(breaker, good)
    result = apply_fixes({None: DOCKERFILE}, propose, validate)
    assert result.texts[None] == "FROM a\nRUN foo bar\nUSER app\n"
    assert [f.transform for f in result.applied] == ["good"]
    assert len(result.internal_errors) == 1
    assert "breaker" in result.internal_errors[0]
    assert "FORM" in result.internal_errors[0]  # the parser's message is included


def test_fixes_that_conflict_only_together() -> None:
    def no_double_x(text: str) -> None:
        if "XX" in text:
            raise ValueError("XX")

    def fa(text: str) -> Fix | None:
        return Fix("a", "a", (Edit(0, 1, "X"),)) if text.startswith("a") else None

    def fb(text: str) -> Fix | None:
        return Fix("b", "b", (Edit(1, 2, "X"),)) if text[1:2] == "b" else None

    result = apply_fixes({None: "ab"}, proposer(fa, fb), no_double_x)
    assert result.texts[None] == "Xb"
    assert [f.transform for f in result.applied] == ["a"]
    assert any("conflict" in e for e in result.internal_errors)


def test_always_proposing_raises_not_converged() -> None:
    def forever(text: str) -> Fix:
        return Fix("forever", "append", (Edit.insert(len(text), "# again\n"),))

    propose = proposer(forever)
    with pytest.raises(NotConverged):
        apply_fixes({None: DOCKERFILE}, propose, validate, max_rounds=3)
    assert len(propose.calls) == 4  # rounds 0..2 apply, round 3 still proposes
    assert propose.calls[-1].count("# again") == 3


def test_only_accepted_applicability_is_applied() -> None:
    def unsafe(text: str) -> Fix | None:
        return replace_fix(text, "unsafe", "USER root", "USER app", applicability=Applicability.UNSAFE)

    def display(text: str) -> Fix | None:
        return replace_fix(text, "display", "foo", "baz", applicability=Applicability.DISPLAY_ONLY)

    def safe(text: str) -> Fix | None:
        return replace_fix(text, "safe", "FROM a", "FROM a:1")

    propose = proposer(unsafe, display, safe)
    default = apply_fixes({None: DOCKERFILE}, propose, validate)
    assert [f.transform for f in default.applied] == ["safe"]
    assert default.texts[None] == "FROM a:1\nRUN foo bar\nUSER root\n"

    permissive = apply_fixes(
        {None: DOCKERFILE}, propose, validate, accept=lambda f: f.applicability >= Applicability.UNSAFE
    )
    assert [f.transform for f in permissive.applied] == ["safe", "unsafe"]
    assert permissive.texts[None] == "FROM a:1\nRUN foo bar\nUSER app\n"
    assert Applicability.DISPLAY_ONLY < Applicability.UNSAFE < Applicability.SAFE
    assert [a.label for a in Applicability] == ["suggestion", "unsafe", "safe"]


def test_notes_are_collected_once() -> None:
    def fixer(text: str) -> Fix | None:
        return replace_fix(text, "fixer", "foo", "baz")

    def noter(text: str) -> Note:
        return Note("noter", "cannot change the base image", line=1)

    def later(text: str) -> Note | None:
        return Note("later", "appears after the fix", line=2, refusal=True) if "baz" in text else None

    result = apply_fixes({None: DOCKERFILE}, proposer(fixer, noter, later), validate)
    assert result.rounds == 1
    assert [(n.transform, n.message) for n in result.notes] == [
        ("noter", "cannot change the base image"),
        ("later", "appears after the fix"),
    ]


def test_fix_with_side_file() -> None:
    script = "#!/bin/sh\nexec app\n"

    def both(texts: dict[str | None, str]):
        if "USER root" not in texts[None]:
            return []
        s, e = span_of(texts[None], "USER root")
        return [
            Fix(
                "entry",
                "drop root",
                (Edit(s, e, "USER app"), Edit(len(script), len(script), "# patched\n", path="run.sh")),
            )
        ]

    result = apply_fixes({None: DOCKERFILE, "run.sh": script}, both, validate)
    assert result.texts[None] == "FROM a\nRUN foo bar\nUSER app\n"
    assert result.texts["run.sh"] == script + "# patched\n"
    assert result.net_edits["run.sh"] == [Edit(len(script), len(script), "# patched\n")]
    assert result.applied[0].files() == {None, "run.sh"}


def test_no_fixes_means_zero_rounds_and_unchanged_text() -> None:
    result = apply_fixes({None: DOCKERFILE}, lambda texts: [], validate)
    assert result.rounds == 0
    assert result.texts == {None: DOCKERFILE}
    assert result.net_edits == {None: []}
    assert result.applied == []


def test_edits_that_cancel_out_give_no_diff() -> None:
    """An insertion and a deletion that touch the same line and undo each other show nothing."""
    assert unified_diff("x", "\n", [Edit(0, 0, "\n"), Edit(0, 1, "")]) == ""
    assert unified_diff("x", "a\nb\n", [Edit(2, 2, "b\n"), Edit(2, 4, "")]) == ""


def test_build_secret_is_one_value_from_flag_to_record() -> None:
    """The typed build secret: the flag a fix reports, the JSON record, compose's sources, parsed back."""
    import pytest as _pytest

    from rewriter.core.buildsecret import BuildSecret

    npmrc = BuildSecret("npmrc", file=".npmrc")
    token = BuildSecret("npm_token", environment="NPM_TOKEN")
    agent = BuildSecret.ssh()
    assert [s.flag for s in (npmrc, token, agent)] == [
        "--secret id=npmrc,src=.npmrc", "--secret id=npm_token,env=NPM_TOKEN", "--ssh default"]
    assert npmrc.record() == {"type": "secret", "id": "npmrc", "src": ".npmrc"}
    assert agent.record() == {"type": "ssh", "id": "default"}
    assert all(BuildSecret.parse(s.flag) == s for s in (npmrc, token, agent))
    with _pytest.raises(ValueError):
        BuildSecret("x")  # a secret needs exactly one source
    with _pytest.raises(ValueError):
        BuildSecret("x", file="f", kind="ssh")


# --------------------------------------------------------------------------- linear bookkeeping


def _reference_original_line(tracked: Tracked, line: int) -> int:
    """Tracked.original_line as it was written first: a walk over the text and the segments per call."""
    if line <= 0:
        return line
    text = tracked.text
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            break
        pos = nxt + 1
    off = last_end = 0
    where = None
    for o, t in tracked._segs:
        if off <= pos < off + len(t):
            where = o + (pos - off) if o >= 0 else last_end
            break
        if o >= 0:
            last_end = o + len(t)
        off += len(t)
    if where is None:
        where = len(tracked.original) if pos >= off else last_end
    return tracked.original.count("\n", 0, where) + 1


@HYPOTHESIS
@given(tracked_rounds())
def test_original_line_answers_as_the_walk_over_the_segments(
        case: tuple[str, list[list[tuple[int, int, str]]]]) -> None:
    """The line index kept between edits gives what a fresh walk gives, after every round."""
    original, rounds = case
    tracked = Tracked(original)
    for spans in rounds:
        tracked.apply([Edit(s, e, c) for s, e, c in spans])
        lines = tracked.text.count("\n") + 2
        for line in range(lines + 1):
            assert tracked.original_line(line) == _reference_original_line(tracked, line), line


_SPAN = st.tuples(st.sampled_from([None, "run.sh"]), st.integers(0, 12), st.integers(0, 4), st.sampled_from(["", "x"]))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(_SPAN, min_size=1, max_size=3), max_size=8))
def test_select_round_chooses_as_comparing_every_pair(raw: list[list[tuple[str | None, int, int, str]]]) -> None:
    """The sorted index of chosen edits defers exactly the fixes a comparison with every chosen fix defers."""
    from rewriter.core.edits import _overlaps, _self_overlapping

    def pairwise(a: Fix, b: Fix) -> bool:  # what select_round did before its index: every edit with every edit
        return any(_overlaps(x, y) for x in a.edits for y in b.edits)

    fixes = [Fix(f"t{i}", "m", tuple(Edit(s, s + n, c, path=p) for p, s, n, c in edits)) for i, edits in enumerate(raw)]
    chosen: list[Fix] = []
    deferred: list[Fix] = []
    for fix in sorted(fixes, key=lambda f: (f.start, f.transform, f.message)):
        if any(pairwise(fix, c) for c in chosen) or _self_overlapping(fix):
            deferred.append(fix)
        else:
            chosen.append(fix)
    assert select_round(fixes) == (chosen, deferred)
