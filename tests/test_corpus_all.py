"""All codemods together over the real corpus: what `dockerfix fix` does to each file.

For every corpus file: no error, no internal error, output that BuildKit's parser accepts, a second
run that changes nothing, and only portable syntax emitted. Over the changed files: trivy's
DS-0002 (root user) and hadolint's DL3002/DL3025/DL3015/DL3009/DL3019/DL3042/DL3020 no longer fire
on the final stage, except on lines where dockerfix told the user why it left them.
"""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from corpus_files import corpus_files, read_text
from linters import hadolint, trivy_dockerfiles
from portability import assert_portable

from rewriter import parse
from rewriter.pipeline import FileResult, Status, process_text

RULES = {"DL3002", "DL3025", "DL3015", "DL3009", "DL3019", "DL3042", "DL3020"}


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[str, FileResult]]:
    out = {}
    for cf in corpus_files():
        if cf.path is None:
            continue
        text = read_text(cf.path)
        out[cf.rel] = (text, process_text(text, path=cf.rel))
    return out


def test_every_file_is_processed_and_stable(results) -> None:
    assert len(results) >= 100
    changed = 0
    for rel, (_text, r) in results.items():
        assert r.status != Status.ERROR, (rel, r.error)
        assert not r.internal_errors, (rel, r.internal_errors)
        if r.changed:
            changed += 1
            dockerfile.parse_string(r.new_text)
            assert_portable(r)
            again = process_text(r.new_text, path=rel)
            assert again.new_text == r.new_text, f"{rel}: a second run changed the file"
    assert changed >= len(results) // 2, "dockerfix should improve most legacy corpus files"


def test_changed_final_stages_pass_the_linters(results, tmp_path: Path) -> None:
    told_by_file = {}
    for rel, (_text, r) in results.items():
        if not r.changed:
            continue
        (tmp_path / rel.replace("/", "__")).write_text(r.new_text, encoding="utf-8", newline="")
        # what dockerfix tells about the rewritten file, in its line numbers (a second run says it)
        again = process_text(r.new_text, path=rel)
        told = {n.line for n in again.notes} | {f.line for f in again.suggestions}
        told_by_file[rel.replace("/", "__")] = told
        final = parse(r.new_text).final_stage
        left = [(f["code"], f["line"]) for f in hadolint(r.new_text)
                if f["code"] in RULES and final.start_line <= f["line"] <= final.end_line
                and f["line"] not in told]
        assert not left, (rel, left)
    findings = trivy_dockerfiles(tmp_path)
    root = []
    for target, misconfigs in findings.items():
        name = Path(target).name
        if any(m["ID"] in {"DS-0002", "DS002"} for m in misconfigs) and not told_by_file.get(name):
            root.append(name)
    assert root == []
