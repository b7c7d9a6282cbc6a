"""The ``logs`` codemod beyond its golden cases: corpus guarantees and edge cases."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from codemod import assert_codemod
from corpus_files import corpus_params, read_text
from portability import assert_portable

from rewriter.core.edits import Applicability
from rewriter.engine.pipeline import Status, process_text
from transforms.logs import TRANSFORM


def _run(text: str, unsafe: bool = False):
    return process_text(text, transforms=[TRANSFORM], unsafe_fixes=unsafe)


@pytest.mark.parametrize("cf", corpus_params())
def test_corpus_outputs_parse_and_are_stable(cf) -> None:
    source = read_text(cf.path)
    for unsafe in (False, True):
        r = _run(source, unsafe=unsafe)
        assert r.status != Status.ERROR, r.error
        assert not r.internal_errors
        if r.changed:
            dockerfile.parse_string(r.new_text)
            assert_portable(r)
            assert _run(r.new_text, unsafe=unsafe).new_text == r.new_text


def test_shell_redirect_with_other_shell_syntax_keeps_the_shell() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        CMD ./migrate && ./server --port $PORT >> /var/log/s.log 2>&1
        """,
        """
        FROM debian:trixie-slim
        CMD ./migrate && ./server --port $PORT
        """,
        transform="logs",
        notes=["CMD logs to the container's output instead of files"],
    )


def test_redirect_to_dev_stdout_is_left_alone() -> None:
    assert_codemod("FROM debian:trixie-slim\nCMD ./server > /dev/stdout 2>&1\n", None, transform="logs")


def test_only_the_final_stage_changes() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim AS b
        CMD ./a > /var/log/a.log
        FROM debian:trixie-slim
        CMD ./b > /var/log/b.log
        """,
        """
        FROM debian:trixie-slim AS b
        CMD ./a > /var/log/a.log
        FROM debian:trixie-slim
        CMD ["./b"]
        """,
        transform="logs",
    )


def test_error_log_variables_go_to_stderr() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        ENV APP_ERROR_LOG=/var/log/app/error.log
        CMD ["/app"]
        """,
        """
        FROM debian:trixie-slim
        ENV APP_ERROR_LOG=/dev/stderr
        CMD ["/app"]
        """,
        transform="logs",
    )


def test_several_services_get_a_note_not_a_rewrite() -> None:
    r = assert_codemod(
        """
        FROM debian:trixie-slim
        CMD service nginx start && service cron start && tail -f /var/log/nginx/access.log
        """,
        None,
        transform="logs",
        unsafe=True,
    )
    assert any("one application per container" in n.message for n in r.notes)


def test_daemon_in_foreground_is_unsafe_only() -> None:
    r = assert_codemod("FROM debian:trixie-slim\nCMD service nginx start && tail -f /var/log/nginx/access.log\n",
                       None, transform="logs")
    assert [f.applicability for f in r.suggestions] == [Applicability.UNSAFE]


def test_distroless_config_logs_get_a_note() -> None:
    r = assert_codemod(
        """
        FROM gcr.io/distroless/base-debian13:nonroot
        COPY nginx.conf /etc/nginx/nginx.conf
        CMD ["/nginx"]
        """,
        None,
        transform="logs",
        context={"nginx.conf": "access_log /var/log/nginx/a.log;\n"},
    )
    assert any("no shell" in n.message for n in r.notes)


def test_config_link_keeps_missing_final_newline() -> None:
    text = "FROM debian:trixie-slim\nCOPY site.conf /etc/nginx/conf.d/site.conf"
    assert_codemod(text, text + "\nRUN mkdir -p /var/log/site \\\n && ln -sf /dev/stderr /var/log/site/error.log",
                   transform="logs", context={"site.conf": "error_log /var/log/site/error.log;\n"})


def test_keep_alive_inside_sh_c_exec_form_runs_the_daemon_in_the_foreground() -> None:
    assert_codemod(
        """
        FROM debian:trixie-slim
        CMD ["sh", "-c", "service nginx start && tail -f /var/log/nginx/access.log"]
        """,
        r"""
        FROM debian:trixie-slim
        RUN mkdir -p /var/log/nginx \
         && ln -sf /dev/stdout /var/log/nginx/access.log
        CMD ["nginx", "-g", "daemon off;"]
        """,
        transform="logs",
        unsafe=True,
    )


def test_rewritten_python_logging_configs_load_and_log_to_the_console() -> None:
    """The golden outputs of the Python logging formats are accepted by the standard library and give
    stream handlers on stdout/stderr only (no file is opened)."""
    import json
    import logging
    import logging.config
    import sys

    from ruamel.yaml import YAML

    golden = Path(__file__).resolve().parent.parent / "golden" / "logs"
    saved = logging.root.handlers[:]
    try:
        logging.config.fileConfig(golden / "fileconfig-ini-crlf" / "expected.logging.ini",
                                  disable_existing_loggers=False)
        ini = logging.root.handlers[:]
        logging.config.dictConfig(YAML(typ="safe").load((golden / "dictconfig-yaml" / "expected.logging.yaml")
                                                        .read_text()))
        yaml_handlers = logging.root.handlers[:]
        logging.config.dictConfig(json.loads((golden / "dictconfig-json" / "expected.logging.json").read_text()))
        json_handlers = logging.root.handlers[:]
    finally:
        logging.root.handlers[:] = saved
    for handlers in (ini, yaml_handlers, json_handlers):
        assert handlers and all(type(h) is logging.StreamHandler for h in handlers), handlers
        assert all(h.stream in (sys.stdout, sys.stderr) for h in handlers)
