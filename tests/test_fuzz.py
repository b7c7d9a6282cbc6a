"""Mutation fuzzing: corpus files with random small damage never make a codemod emit an edit that
breaks the file (an "internal error: ... discarded" message) and never raise.

Mutations: insert, delete or duplicate characters; split an instruction keyword with a line
continuation (``R\\`` + newline + ``UN``, which BuildKit joins back into ``RUN``: found by an earlier
fuzz run, where ADD -> COPY and mount insertions cut such keywords). Seeded, so every run checks
the same mutants; the full corpus is used when ``../shared`` is present.
"""

from __future__ import annotations

import random

import pytest
from corpus_files import corpus_files, read_text

from rewriter import parse
from rewriter.engine.pipeline import Status, process_text

ALPHABET = "ADRUNCOPY#\\ \n\t-=$'\"{}[]/.:"
MUTANTS = 400


def _split_keyword(text: str, rnd: random.Random) -> str:
    insts = [i for i in parse(text).instructions if len(i.keyword) > 1 and i.keyword_span is not None]
    if not insts:
        return text
    inst = rnd.choice(insts)
    at = inst.start + inst.keyword_span[0] + rnd.randrange(1, len(inst.keyword))  # type: ignore[index]
    return text[:at] + "\\\n" + text[at:]


def _mutate(text: str, rnd: random.Random) -> str:
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(text) + 1)
        op = rnd.random()
        if op < 0.3:
            text = text[:i] + rnd.choice(ALPHABET) + text[i:]
        elif op < 0.55:
            text = text[:i] + text[i + 1 :]
        elif op < 0.7:
            j = rnd.randrange(len(text) + 1)
            text = text[:i] + text[j : j + 5] + text[i:]
        else:
            text = _split_keyword(text, rnd)
    return text


@pytest.fixture(scope="module")
def sources() -> list[str]:
    texts = [read_text(cf.path) for cf in corpus_files() if cf.path is not None]
    assert texts
    return texts


@pytest.mark.parametrize("seed", range(4))
def test_mutants_never_get_a_breaking_edit(seed: int, sources: list[str]) -> None:
    rnd = random.Random(seed)
    bad = []
    for _ in range(MUTANTS // 4):
        text = _mutate(rnd.choice(sources), rnd)
        for unsafe in (False, True):
            r = process_text(text, path="Dockerfile", unsafe_fixes=unsafe)
            if r.internal_errors:
                bad.append((text, r.internal_errors))
            if r.status not in {Status.ERROR} and r.changed:
                assert parse(r.new_text).code == r.new_text
    assert not bad, f"{len(bad)} mutants got a breaking edit, first: {bad[0][1]}\n{bad[0][0][:2000]}"


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian:12\nAD\\\nD app.tar.gz.txt /app/\nCMD [\"/app/run\"]\n",
        "FROM node:22\nWORKDIR /a\nCOPY .npmrc .\nR\\\nUN npm ci\nRUN rm .npmrc\nCMD [\"node\", \"s.js\"]\n",
        "FROM debian:12\nRU\\\nN apt-get update && apt-get install -y curl\nCMD [\"curl\"]\n",
    ],
)
def test_keyword_split_by_a_continuation(text: str, tmp_path) -> None:
    (tmp_path / ".npmrc").write_text("//r/:_authToken=x\n")
    for unsafe in (False, True):
        r = process_text(text, path="Dockerfile", context_dir=tmp_path, unsafe_fixes=unsafe)
        assert not r.internal_errors, r.internal_errors
        assert r.status != Status.ERROR, r.error
