"""Tests for rewriter.core.shell: words, offsets, operators, depth, redirects, heredocs and helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewriter.core.shell import Command, Script, Word, needs_shell, parse_shell, split_words


def only(script: Script) -> Command:
    assert len(script.commands) == 1, script.commands
    return script.commands[0]


def test_words_resolve_quotes_and_keep_expansions() -> None:
    text = """echo 'a b' "c \\"d\\" \\\\ \\$e \\`f" --prefix="$HOME"/x ${VAR} g\\ h 'x'"y"z"""
    cmd = only(parse_shell(text))
    assert cmd.name == "echo"
    assert cmd.argv == ("echo", "a b", 'c "d" \\ $e `f', "--prefix=$HOME/x", "${VAR}", "g h", "xyz")
    assert [w.is_literal for w in cmd.words] == [True, True, True, False, False, True, True]
    assert cmd.args[0].raw == "'a b'"


def test_double_quotes_keep_unknown_backslashes_and_single_quotes_are_literal() -> None:
    cmd = only(parse_shell("""printf "a\\nb" 'c\\d $X'"""))
    assert cmd.argv == ("printf", "a\\nb", "c\\d $X")
    assert cmd.words[2].is_literal


def test_ansi_c_string_is_decoded() -> None:
    assert only(parse_shell("echo $'a\\tb\\x41'")).argv == ("echo", "a\tbA")


def test_command_substitution_is_one_word_kept_verbatim_and_not_a_top_level_command() -> None:
    script = parse_shell('echo "$(cat "/etc/x y")" `pwd`')
    cmd = only(script)
    assert cmd.argv == ("echo", '$(cat "/etc/x y")', "`pwd`")
    assert not cmd.words[1].is_literal
    assert [c.argv for c in cmd.substitutions] == [("cat", "/etc/x y"), ("pwd",)]


def assert_offsets(script: Script) -> None:
    for cmd in script.commands:
        for word in cmd.words:
            assert script.text[word.start : word.end] == word.raw


def test_comment_in_backticks_ends_at_the_closing_backtick() -> None:
    # the inline-comment idiom of Dockerfiles; tree-sitter ran the comment over "` b && rm -rf /x"
    text = "apt-get install -y a `# note` b && rm -rf /x"
    script = parse_shell(text)
    assert not script.has_error
    install, rm = script.commands
    assert install.argv == ("apt-get", "install", "-y", "a", "`# note`", "b")
    assert (install.operator, rm.argv, rm.operator) == ("&&", ("rm", "-rf", "/x"), None)
    note = install.words[4]
    assert (note.raw, note.start, note.end, note.is_literal) == ("`# note`", 21, 29, False)
    assert install.substitutions == ()
    assert script.is_simple_chain()
    assert_offsets(script)


@pytest.mark.parametrize(
    ("text", "argv", "subs"),
    [
        ("echo a $(# c\n)", ("echo", "a", "$(# c\n)"), []),
        ("echo $() `` $( \\\n )", ("echo", "$()", "``", "$( \\\n )"), []),
        ('echo "`# x`" y', ("echo", "`# x`", "y"), []),
        ("x=`#c` y", ("y",), []),
        ("echo `b # c`  x", ("echo", "`b # c`", "x"), [("b",)]),
        ("echo `b \\\n  # c` x", ("echo", "`b \\\n  # c`", "x"), [("b",)]),
        ("echo $(b # c ) `d`\n) x", ("echo", "$(b # c ) `d`\n)", "x"), [("b",)]),
        ("echo $(echo `# x` y\n)", ("echo", "$(echo `# x` y\n)"), [("echo", "`# x`", "y")]),
        ("echo $(echo a$((1))#b ${#x})", ("echo", "$(echo a$((1))#b ${#x})"), [("echo", "a$((1))#b", "${#x}")]),
    ],
)  # fmt: skip
def test_comments_in_and_empty_substitutions(text: str, argv: tuple[str, ...], subs: list[tuple[str, ...]]) -> None:
    script = parse_shell(text)
    assert not script.has_error
    cmd = only(script)
    assert cmd.argv == argv
    assert [c.argv for c in cmd.substitutions] == subs
    assert_offsets(script)


@pytest.mark.parametrize("word", ["*.txt", "a?c", "lib[0-9]", "~/bin", "{a,b}", "{1..3}", "--dir=~/x"])
def test_globs_tilde_and_braces_are_not_literal(word: str) -> None:
    cmd = only(parse_shell(f"ls {word}"))
    assert cmd.words[1].raw == word
    assert not cmd.words[1].is_literal


@pytest.mark.parametrize("word", ['"*.txt"', "\\*", "'~/x'", "a~b", "[", "-f"])
def test_quoted_globs_are_literal(word: str) -> None:
    assert only(parse_shell(f"ls {word}")).words[1].is_literal


def test_offsets_are_character_offsets_with_non_ascii() -> None:
    text = 'echo "héllo" wörld && ünïcode --x=€ > /tmp/ß'
    script = parse_shell(text)
    first, second = script.commands
    assert [(w.start, w.end) for w in first.words] == [(0, 4), (5, 12), (13, 18)]
    assert first.words[1].text == "héllo"
    assert second.name == "ünïcode"
    assert text[second.words[1].start : second.words[1].end] == "--x=€"
    redirect = second.redirects[0]
    assert redirect.target is not None
    assert text[redirect.target.start : redirect.target.end] == "/tmp/ß"
    assert text[second.start : second.end] == "ünïcode --x=€ > /tmp/ß"


def test_line_continuations() -> None:
    text = "apt-get install -y \\\n    curl \\\n    git"
    cmd = only(parse_shell(text))
    assert cmd.argv == ("apt-get", "install", "-y", "curl", "git")
    assert [text[w.start : w.end] for w in cmd.words] == ["apt-get", "install", "-y", "curl", "git"]
    assert (cmd.words[3].start, cmd.words[4].start) == (25, 36)
    assert (cmd.start, cmd.end) == (0, len(text))


def test_continuation_inside_a_word_joins_it() -> None:
    cmd = only(parse_shell('echo cu\\\nrl "a\\\nb"'))
    assert cmd.argv == ("echo", "curl", "ab")
    assert cmd.words[1].raw == "cu\\\nrl"


def test_crlf_continuations() -> None:
    script = parse_shell("apt-get install \\\r\n  curl && \\\r\n  rm -rf x")
    assert [c.argv for c in script.commands] == [("apt-get", "install", "curl"), ("rm", "-rf", "x")]
    assert script.is_simple_chain()


@pytest.mark.parametrize(
    "text", ["echo a \\\n", "echo a \\\r\n", "echo a \\\n  \t", "echo a\\\n", "echo a \\\n \\\r\n\n"]
)
def test_continuation_at_the_end_of_the_text(text: str) -> None:
    # a Dockerfile RUN whose continuation runs to the end of the file; bash -n accepts it
    script = parse_shell(text)
    assert not script.has_error
    assert only(script).argv == ("echo", "a")
    assert only(script).words[1].raw == "a"


def test_escaped_backslash_before_final_newline_is_a_word() -> None:
    script = parse_shell("echo a\\\\\n")
    assert not script.has_error
    assert only(script).argv == ("echo", "a\\")


def test_env_prefix_and_bare_assignment() -> None:
    script = parse_shell('CGO_ENABLED=0 GOOS="linux" go build ./... && A=1 && B=')
    build, assign, empty = script.commands
    assert build.name == "go"
    assert build.argv == ("go", "build", "./...")
    assert [(a.name, a.value.text if a.value else None) for a in build.env] == [("CGO_ENABLED", "0"), ("GOOS", "linux")]
    assert build.env[1].value is not None and build.env[1].value.raw == '"linux"'
    assert build.start == 0
    assert assign.words == () and assign.name == ""
    assert assign.env[0].name == "A"
    assert empty.env[0].value is None


def test_export_is_a_command_not_an_env_prefix() -> None:
    cmd = only(parse_shell("export PATH=/opt/bin:$PATH"))
    assert cmd.name == "export"
    assert cmd.argv == ("export", "PATH=/opt/bin:$PATH")
    assert cmd.env == ()


def test_redirects() -> None:
    text = "./run.sh --x >> /var/log/app.log 2>&1 </dev/null &>out 2>/dev/null"
    cmd = only(parse_shell(text))
    assert cmd.argv == ("./run.sh", "--x")
    got = [(r.op, r.fd, r.target.text if r.target else None) for r in cmd.redirects]
    assert got == [(">>", None, "/var/log/app.log"), (">&", 2, "1"), ("<", None, "/dev/null"), ("&>", None, "out"),
                   (">", 2, "/dev/null")]  # fmt: skip
    append = cmd.redirects[0]
    assert text[append.start : append.end] == ">> /var/log/app.log"
    assert (cmd.start, cmd.end) == (0, len(text))


def test_words_after_a_redirect_still_belong_to_the_command() -> None:
    cmd = only(parse_shell("echo a >f b"))
    assert cmd.argv == ("echo", "a", "b")
    assert [(r.op, r.target.text if r.target else None) for r in cmd.redirects] == [(">", "f")]


def test_word_that_tree_sitter_spans_over_whitespace_is_split() -> None:
    text = "echo } ] { ! ="
    cmd = only(parse_shell(text))
    assert cmd.argv == ("echo", "}", "]", "{", "!", "=")
    assert [(w.start, w.end) for w in cmd.words][1:] == [(5, 6), (7, 8), (9, 10), (11, 12), (13, 14)]


def test_redirect_after_pipeline_belongs_to_last_command() -> None:
    first, last = parse_shell("a | b > f").commands
    assert first.redirects == ()
    assert last.redirects[0].op == ">"
    assert last.in_pipeline


def test_operators_between_commands() -> None:
    script = parse_shell("a && b || c; d | e &")
    assert [(c.name, c.operator) for c in script.commands] == [
        ("a", "&&"), ("b", "||"), ("c", ";"), ("d", "|"), ("e", "&")
    ]  # fmt: skip
    assert [c.in_pipeline for c in script.commands] == [False, False, False, True, True]
    assert not script.is_simple_chain()


def test_newline_is_a_separator_but_continuation_is_not() -> None:
    script = parse_shell("a\nb \\\n  c # comment\nd")
    assert [(c.argv, c.operator) for c in script.commands] == [(("a",), "\n"), (("b", "c"), "\n"), (("d",), None)]


def test_depth_in_subshells_groups_and_compound_statements() -> None:
    script = parse_shell("(cd x && make) && { a; b; } && if c; then d; fi; for i in 1 2; do e $i; done; f")
    assert [(c.name, c.depth) for c in script.commands] == [
        ("cd", 1), ("make", 1), ("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1), ("f", 0)
    ]  # fmt: skip
    assert script.commands[0].operator == "&&"
    assert script.commands[1].operator is None  # last in its subshell
    assert script.last_top_level() is script.commands[-1]
    assert script.has_compound
    assert not script.is_simple_chain()


def test_nested_depth() -> None:
    script = parse_shell("while true; do (x); done")
    assert [(c.name, c.depth) for c in script.commands] == [("true", 1), ("x", 2)]


def test_negation_covers_the_whole_pipeline() -> None:
    script = parse_shell("! grep -q x f | cat && y")
    assert [(c.name, c.negated) for c in script.commands] == [("grep", True), ("cat", True), ("y", False)]


def test_heredoc_body_and_following_commands() -> None:
    text = "cat <<EOF > /etc/app.conf && chmod 600 /etc/app.conf\nkey=$VALUE\nEOF\necho done"
    script = parse_shell(text)
    assert not script.has_error
    assert [(c.name, c.operator) for c in script.commands] == [("cat", "&&"), ("chmod", "\n"), ("echo", None)]
    cat = script.commands[0]
    assert [(r.op, r.target.text if r.target else None) for r in cat.redirects] == [
        ("<<", "EOF"),
        (">", "/etc/app.conf"),
    ]
    (heredoc,) = script.heredocs
    assert cat.redirects[0].heredoc == heredoc
    assert (heredoc.delimiter, heredoc.quoted, heredoc.strip_tabs) == ("EOF", False, False)
    assert heredoc.body == "key=$VALUE\n"
    assert text[heredoc.body_start : heredoc.body_end] == heredoc.body
    assert text[cat.start : cat.end] == "cat <<EOF > /etc/app.conf"
    assert script.is_simple_chain()


def test_heredoc_strip_tabs_quoted_and_two_on_one_line() -> None:
    text = "cat <<-'END' <<\"B\"\n\tline $X\n\tEND\nb\nB\n"
    script = parse_shell(text)
    assert not script.has_error
    first, second = script.heredocs
    assert (first.delimiter, first.quoted, first.strip_tabs) == ("END", True, True)
    assert first.body == "\tline $X\n"
    assert first.content == "line $X\n"
    assert (second.delimiter, second.quoted, second.strip_tabs, second.body) == ("B", True, False, "b\n")
    assert [r.op for r in only(script).redirects] == ["<<-", "<<"]


def test_heredoc_backslash_quoted_delimiter_and_fd() -> None:
    script = parse_shell("python3 3<<\\PY\nprint('$HOME')\nPY")
    (heredoc,) = script.heredocs
    assert (heredoc.delimiter, heredoc.quoted, heredoc.body) == ("PY", True, "print('$HOME')\n")
    (redirect,) = only(script).redirects
    assert (redirect.op, redirect.fd, redirect.heredoc) == ("<<", 3, heredoc)


def test_heredoc_without_terminator_is_an_error() -> None:
    script = parse_shell("cat <<EOF\nno end")
    assert script.has_error
    assert script.heredocs[0].body == "no end"


def test_not_heredocs_herestring_and_arithmetic() -> None:
    script = parse_shell("cat <<< \"$x\" && echo $((1 << 2)) && echo '<<X'")
    assert script.heredocs == ()
    assert not script.has_error
    assert script.commands[0].redirects[0].op == "<<<"


@pytest.mark.parametrize(
    "text", ['echo "unterminated', "a &&", "if true; then", "echo $(", "(a", "a && \\\n", "echo $(b # c)"]
)
def test_has_error(text: str) -> None:
    assert parse_shell(text).has_error


def test_find_matches_name_and_path_suffix() -> None:
    script = parse_shell("apt-get update && /usr/bin/apt-get install -y x && (my-apt-get) && echo apt-get")
    assert [c.start for c in script.find("apt-get")] == [0, 18]


def test_is_simple_chain() -> None:
    assert parse_shell("a && b; c\nd").is_simple_chain()
    assert parse_shell("a > /dev/null 2>&1 && b").is_simple_chain()
    assert parse_shell("").is_simple_chain()
    for text in ("a || b", "a | b", "a &", "(a)", "{ a; }", "! a", "if a; then b; fi", "a && b &&"):
        assert not parse_shell(text).is_simple_chain(), text


def test_last_top_level() -> None:
    assert parse_shell("(a) && b && (c)").last_top_level() == parse_shell("(a) && b && (c)").commands[1]
    assert parse_shell("(a)").last_top_level() is None


def test_test_and_declaration_commands_are_commands() -> None:
    script = parse_shell('[ -f "$f" ] || unset A')
    assert [c.argv for c in script.commands] == [("[", "-f", "$f", "]"), ("unset", "A")]
    assert script.commands[0].operator == "||"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("gunicorn -b 0.0.0.0:8000 app:app", ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]),
        ('node "server.js"', ["node", "server.js"]),
        ("python -c 'print(1)'", ["python", "-c", "print(1)"]),
        ("java \\\n  -jar app.jar", ["java", "-jar", "app.jar"]),
        ("  ", []),
    ],
)
def test_split_words(text: str, words: list[str]) -> None:
    assert split_words(text) == words


@pytest.mark.parametrize(
    "text",
    ["a && b", "a; b", "a | b", "a &", "a > f", "echo $HOME", "ls *.py", "A=1 app", "(a)", "a # c", 'echo "x'],
)
def test_split_words_rejects_shell_syntax(text: str) -> None:
    with pytest.raises(ValueError):
        split_words(text)


@pytest.mark.parametrize("text", ["gunicorn -b 0.0.0.0:8000 app:app", 'node "server.js"', "nginx -g 'daemon off;'"])
def test_needs_shell_false_for_plain_commands(text: str) -> None:
    assert not needs_shell(text)


@pytest.mark.parametrize(
    "text",
    [
        "a && b", "a || b", "a; b", "a | b", "a &", "app > /log", "app 2>&1", "echo $HOME", "echo ${X}",
        "ls *.txt", "ls file?", "ls [ab]", "echo $(date)", "echo `date`", "(app)", "cd ~", "A=1 app",
        "cat <<EOF\nx\nEOF", 'echo "unterminated', "exec app", "", "app # comment",
    ],
)  # fmt: skip
def test_needs_shell_true(text: str) -> None:
    assert needs_shell(text)


def test_word_is_hashable_value_object() -> None:
    word = only(parse_shell("echo hi")).words[1]
    assert word == Word("hi", "hi", 5, 7, True)
    with pytest.raises(AttributeError):
        word.text = "x"  # type: ignore[misc]


SHELLISH = st.text(alphabet=st.sampled_from(list("ab $\"'\\\n\t;&|<>(){}[]*?~=#-`é€EOF")), max_size=60)


@settings(max_examples=300, deadline=None)
@given(st.one_of(SHELLISH, st.text(max_size=60)))
def test_parse_never_raises_and_raw_matches_offsets(text: str) -> None:
    script = parse_shell(text)
    assert script.text == text
    words = [w for c in script.commands for w in c.words]
    words += [a.value for c in script.commands for a in c.env if a.value]
    words += [r.target for c in script.commands for r in c.redirects if r.target]
    for word in words:
        assert 0 <= word.start <= word.end <= len(text)
        assert text[word.start : word.end] == word.raw
    for heredoc in script.heredocs:
        assert text[heredoc.body_start : heredoc.body_end] == heredoc.body
    for cmd in script.commands:
        assert 0 <= cmd.start <= cmd.end <= len(text)


def test_astral_character_after_brace_does_not_crash_the_parser() -> None:
    # tree-sitter-bash segfaults on "{" followed by a 4-byte UTF-8 character (tree-sitter-bash#337);
    # run in a child process so a regression fails this test instead of killing the test run.
    code = ("from rewriter.core.shell import parse_shell; "
            "s = parse_shell('echo {\\U00031860} x'); print(s.commands[0].argv)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), *sys.path])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(("echo", "{\U00031860}", "x"))


TOKENS = st.lists(st.text(alphabet=st.sampled_from(list("az09_-./é€中ßñ\U0001f600\U00031860")), min_size=1), min_size=1)


@settings(max_examples=200, deadline=None)
@given(TOKENS, st.sampled_from([" ", "  ", " \\\n  ", "\t"]))
def test_plain_tokens_round_trip_with_exact_offsets(tokens: list[str], sep: str) -> None:
    text = sep.join(tokens)
    cmd = only(parse_shell(text))
    assert list(cmd.argv) == tokens
    assert [text[w.start : w.end] for w in cmd.words] == tokens
    assert split_words(text) == tokens


_PIECES = [*"ab $`{}()<>|&;'\"\\\n\t*?[]=~#,.-0", "$(", "${x}", "<(", ">(", "{a,b}", "{1..3}", "$((1+2))", "`ls`",
           "<<EOF\nx\nEOF\n", "\\\n", "# c\n", "\u00e9"]
SHELLISH = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(SHELLISH)
def test_a_word_with_nothing_to_expand_is_read_without_walking_its_nodes(text: str) -> None:
    """The fast path (a word holding none of ``$ ` { <( >(``) gives the words the full walk gives."""
    import re

    import rewriter.core.shell as shell

    fast = parse_shell.__wrapped__(text)  # type: ignore[attr-defined]
    saved = shell._MAY_EXPAND
    shell._MAY_EXPAND = re.compile("")  # matches every word: each one walked
    try:
        walked = parse_shell.__wrapped__(text)  # type: ignore[attr-defined]
    finally:
        shell._MAY_EXPAND = saved
    assert fast == walked


def _resolve_by_character(raw: str, spans: Sequence[tuple[int, int]] = ()) -> tuple[str, bool]:
    """The reference reading of quotes and escapes, one character at a time: ``_resolve`` with its
    shortcuts off (no runs; a span at the very end, which changes nothing, skips the early returns)."""
    from unittest import mock

    from rewriter.core import shell

    with mock.patch.object(shell, "_RUNS", {}):
        return shell._resolve(raw, (*spans, (len(raw), len(raw))))


@st.composite
def _words_and_spans(draw: st.DrawFn) -> tuple[str, tuple[tuple[int, int], ...]]:
    raw = draw(st.text(alphabet="ab '\"\\$*?[]{},~=:.\nx0", max_size=16))
    cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=6, unique=True)))
    return raw, tuple(zip(cuts[::2], cuts[1::2], strict=False))  # non-overlapping, as expansions are


@settings(max_examples=1000, deadline=None)
@given(case=_words_and_spans())
def test_quote_resolution_shortcuts_agree_with_the_full_reading(case: tuple[str, tuple[tuple[int, int], ...]]) -> None:
    """The shortcuts of ``_resolve`` (no quotes at all; runs of characters that stand for themselves)
    give what reading one character at a time gives."""
    from rewriter.core.shell import _resolve

    raw, spans = case
    assert _resolve(raw, spans) == _resolve_by_character(raw, spans)
    assert _resolve(raw) == _resolve_by_character(raw)


def test_argv_is_kept_once_asked_and_never_outlives_its_words() -> None:
    import dataclasses

    cmd = parse_shell("apt-get install -y curl").commands[0]
    fresh = parse_shell.__wrapped__("apt-get install -y curl").commands[0]
    assert cmd.argv == ("apt-get", "install", "-y", "curl") and cmd.argv is cmd.argv  # computed once
    assert cmd == fresh and hash(cmd) == hash(fresh)  # the kept copy is not part of equality
    other = parse_shell("rm -rf x").commands[0]
    moved = dataclasses.replace(cmd, words=other.words)
    assert moved.argv == ("rm", "-rf", "x")  # a changed command computes its own
