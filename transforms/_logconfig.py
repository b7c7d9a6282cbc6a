"""Logging configuration files that write to files, rewritten to write to stdout/stderr.

Text edits only: everything but the lines that name the file handler/appender stays byte for byte
(comments, order, indentation, line endings). Used by the ``logs`` codemod.

Formats
    * Python ``logging.config.fileConfig`` INI (``[handler_NAME]`` with ``class=FileHandler``,
      ``RotatingFileHandler``, ``TimedRotatingFileHandler``, ``WatchedFileHandler``): the class becomes
      ``StreamHandler``, ``args`` becomes ``(sys.stdout,)`` (``sys.stderr`` for an ERROR/CRITICAL
      handler or one named like ``*err*``), a ``kwargs`` line is removed.
    * logback XML: a ``FileAppender``/``RollingFileAppender`` becomes a ``ConsoleAppender``; its
      ``<file>``, ``<rollingPolicy>``, ``<triggeringPolicy>``, ``<append>`` and ``<prudent>`` go; its
      encoder and pattern stay.
    * log4j2 XML: ``<File>``/``<RollingFile>``/``<RandomAccessFile>``/``<RollingRandomAccessFile>`` becomes
      ``<Console target="SYSTEM_OUT">`` with the same name and layout; file names, rollover policies
      and strategies go.
    * php.ini: ``error_log = FILE`` becomes ``error_log = /dev/stderr``.
    * Python ``dictConfig`` YAML/JSON written one key per line: a file handler's class becomes
      ``logging.StreamHandler``, ``filename`` becomes ``stream: ext://sys.stdout`` (``sys.stderr`` for an
      ERROR handler), the other file-only keys go (JSON commas kept valid).
Refused (None, with the reason): a path decided by a template (``${...}``, ``%(...)s``).
"""

from __future__ import annotations

import re

FILE_HANDLERS = re.compile(r"^(?:logging\.)?(?:handlers\.)?(?:Rotating|TimedRotating|Watched)?FileHandler$")
_TEMPLATE = re.compile(r"\$\{|%\(")


def kind_of(name: str, text: str) -> str | None:
    """Which format ``text`` (a file called ``name``) is, if it is one this module rewrites."""
    lower = name.lower()
    if lower.endswith((".ini", ".conf", ".cfg")) and re.search(r"(?m)^\s*\[handler_", text):
        return "fileconfig"
    if lower.endswith(".xml") and "ch.qos.logback" in text:
        return "logback"
    if lower.endswith(".xml") and re.search(r"<Configuration\b", text) and re.search(r"<Appenders\b", text):
        return "log4j2"
    if lower.endswith(".ini") and re.search(r"(?m)^\s*error_log\s*=", text):
        return "php"
    if lower.endswith((".yaml", ".yml")) and re.search(r"(?m)^version:\s*1\b", text) and \
            re.search(r"(?m)^handlers:", text):
        return "dictconfig-yaml"
    if lower.endswith(".json") and re.search(r'"version"\s*:\s*1\b', text) and '"handlers"' in text:
        return "dictconfig-json"
    return None


Span = tuple[int, int, str]


def rewrite(kind: str, text: str) -> tuple[list[Span] | None, str]:
    """(the edits as (start, end, replacement) spans of ``text``, or None; what changed or why not)."""
    return {"fileconfig": _fileconfig, "logback": _logback, "log4j2": _log4j2, "php": _php,
            "dictconfig-yaml": _dictconfig, "dictconfig-json": _dictconfig}[kind](text)


def apply(text: str, spans: list[Span]) -> str:
    out, pos = [], 0
    for start, end, new in sorted(spans):
        out += [text[pos:start], new]
        pos = end
    return "".join(out) + text[pos:]


def _line_spans(lines: list[str], out: list[str]) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for old, new in zip(lines, out, strict=True):
        if old != new:
            spans.append((pos, pos + len(old), new))
        pos += len(old)
    return spans


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _eol(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _fileconfig(text: str) -> tuple[list[Span] | None, str]:
    lines = _lines(text)
    sections: list[tuple[str, int, int]] = []  # (name, first line, end line)
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[([^\]]+)\]", line)
        if m:
            if sections:
                sections[-1] = (sections[-1][0], sections[-1][1], i)
            sections.append((m.group(1).strip(), i, len(lines)))
    out = list(lines)
    changed: list[str] = []
    for name, first, end in sections:
        if not name.startswith("handler_"):
            continue
        keys: dict[str, list[int]] = {}
        current = None
        for i in range(first + 1, end):
            m = re.match(r"([A-Za-z_]+)\s*[=:]", lines[i])
            if m and not lines[i][:1].isspace():
                current = m.group(1).lower()
                keys[current] = [i]
            elif current and lines[i].strip() and lines[i][:1].isspace():
                keys[current].append(i)
        if "class" not in keys:
            continue
        cls_line = lines[keys["class"][0]]
        cls = cls_line.split("=", 1)[1].strip() if "=" in cls_line else cls_line.split(":", 1)[1].strip()
        if not FILE_HANDLERS.match(cls):
            continue
        spans = [lines[i] for k in ("args", "kwargs") for i in keys.get(k, [])]
        if any(_TEMPLATE.search(s) for s in spans):
            return None, f"{name}: its file name is a template (%(...)s / ${{...}}): left unchanged"
        level = lines[keys["level"][0]].split("=", 1)[-1].strip().upper() if "level" in keys else ""
        stream = "stderr" if level in {"ERROR", "CRITICAL"} or "err" in name.lower() else "stdout"
        i = keys["class"][0]
        out[i] = cls_line[: cls_line.index(cls)] + "StreamHandler" + _eol(cls_line)
        if "args" in keys:
            a = keys["args"][0]
            head = lines[a][: lines[a].index("=") + 1] if "=" in lines[a] else "args="
            spacing = " " if head.endswith(" =") or lines[a][len(head):len(head) + 1] == " " else ""
            out[a] = f"{head}{spacing}(sys.{stream},){_eol(lines[a])}"
            for extra in keys["args"][1:]:
                out[extra] = ""
        else:
            out[i] += f"args=(sys.{stream},){_eol(cls_line) or chr(10)}"
        for k in keys.get("kwargs", []):
            out[k] = ""
        changed.append(f"{name} -> sys.{stream}")
    if not changed:
        return None, "no file handler"
    return _line_spans(lines, out), ", ".join(changed)


_LOGBACK_FILE = re.compile(
    r'(<appender\b[^>]*\bclass=")(ch\.qos\.logback\.core\.(?:rolling\.Rolling|)FileAppender)("[^>]*>)(.*?)(</appender>)',
    re.DOTALL)
_LOGBACK_DROP = ("file", "rollingPolicy", "triggeringPolicy", "append", "prudent")


def _dropped(body: str, offset: int, names: tuple[str, ...]) -> list[Span]:
    """Spans removing child elements (with their whole lines when they stand alone on them)."""
    spans: list[Span] = []
    for tag in names:
        pattern = re.compile(
            rf"(?:^[ \t]*)?<{tag}\b[^>]*?(?:/>|>.*?</{tag}\s*>)(?:[ \t]*(?:\r\n|\n))?", re.DOTALL | re.MULTILINE)
        spans += [(offset + m.start(), offset + m.end(), "") for m in pattern.finditer(body)]
    # an element inside another removed one goes with it
    return [sp for sp in spans if not any(o != sp and o[0] <= sp[0] and sp[1] <= o[1] for o in spans)]


def _logback(text: str) -> tuple[list[Span] | None, str]:
    names: list[str] = []
    spans: list[Span] = []
    for m in _LOGBACK_FILE.finditer(text):
        file = re.search(r"<file>(.*?)</file>", m.group(4), re.DOTALL)
        if file is not None and "${" in file.group(1):
            return None, "an appender's file name is a template (${...}): left unchanged"
        name = re.search(r'\bname="([^"]*)"', m.group(0))
        names.append(name.group(1) if name else "?")
        spans.append((m.start(2), m.end(2), "ch.qos.logback.core.ConsoleAppender"))
        spans += _dropped(m.group(4), m.start(4), _LOGBACK_DROP)
    if not spans:
        return None, "no file appender"
    return spans, "appender(s) " + ", ".join(names) + " -> console"


_LOG4J2_FILE = re.compile(
    r"<(RollingRandomAccessFile|RandomAccessFile|RollingFile|File)\b([^>]*?)(/>|>(.*?)</(\1)\s*>)", re.DOTALL)
_LOG4J2_DROP = ("Policies", "DefaultRolloverStrategy", "DirectWriteRolloverStrategy",
                "SizeBasedTriggeringPolicy", "TimeBasedTriggeringPolicy", "OnStartupTriggeringPolicy")
_LOG4J2_FILE_ATTRS = re.compile(r'\s+(?:fileName|filePattern|append|immediateFlush|bufferedIO|bufferSize|locking|'
                                r'createOnDemand|advertise|filePermissions|fileOwner|fileGroup)="[^"]*"')


def _log4j2(text: str) -> tuple[list[Span] | None, str]:
    names: list[str] = []
    spans: list[Span] = []
    for m in _LOG4J2_FILE.finditer(text):
        if re.search(r'fileName="[^"]*\$\{', m.group(2)):
            return None, "an appender's file name is a template (${...}): left unchanged"
        name = re.search(r'\bname="([^"]*)"', m.group(2))
        names.append(name.group(1) if name else "?")
        spans.append((m.start(1), m.end(1), "Console"))
        attrs = list(_LOG4J2_FILE_ATTRS.finditer(m.group(2)))
        spans += [(m.start(2) + a.start(), m.start(2) + a.end(), "") for a in attrs]
        spans.append((m.end(2), m.end(2), ' target="SYSTEM_OUT"'))
        if m.group(4) is not None:
            spans += _dropped(m.group(4), m.start(4), _LOG4J2_DROP)
            spans.append((m.start(5), m.end(5), "Console"))
    if not spans:
        return None, "no file appender"
    return spans, "appender(s) " + ", ".join(names) + " -> console"


def _php(text: str) -> tuple[list[Span] | None, str]:
    out = []
    changed = False
    lines = _lines(text)
    for line in lines:
        m = re.match(r"(\s*error_log\s*=\s*)(\S[^\r\n;]*?)(\s*(?:;.*)?)(\r?\n?)$", line)
        if m and m.group(2).strip("\"'") not in {"/dev/stderr", "/proc/self/fd/2", "syslog"}:
            if _TEMPLATE.search(m.group(2)):
                return None, "error_log is a template: left unchanged"
            line = m.group(1) + "/dev/stderr" + m.group(3) + m.group(4)
            changed = True
        out.append(line)
    return (_line_spans(lines, out), "error_log -> /dev/stderr") if changed else (None, "error_log is on the console")


#: a file handler's keys that have no meaning for a StreamHandler
_FILE_KEYS = {"filename", "maxBytes", "backupCount", "when", "interval", "encoding", "mode", "delay", "utc",
              "atTime", "errors"}


def _dictconfig(text: str) -> tuple[list[Span] | None, str]:
    """``logging.config.dictConfig`` in YAML or JSON, one key per line (how such files are written): in
    each handler whose ``class`` is a file handler, the class becomes ``logging.StreamHandler``,
    ``filename`` becomes ``stream: ext://sys.stdout`` (``sys.stderr`` for an ERROR handler) and the
    other file-only keys go. JSON keeps valid commas; anything not one-key-per-line is left alone."""
    lines = _lines(text)
    out = list(lines)
    key = re.compile(r'^(\s*)"?([A-Za-z_]+)"?\s*:\s*(.*?)\s*(,?)\s*$')
    changed: list[str] = []
    for i, line in enumerate(lines):
        m = key.match(line.rstrip("\r\n"))
        if not m or m.group(2) != "class" or not FILE_HANDLERS.match(m.group(3).strip("\"'")):
            continue
        indent = m.group(1)
        # the handler's other keys: the lines around it at the same indent, up to a shallower line
        block = [i]
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines):
                other = lines[j].rstrip("\r\n")
                if other.strip() and (len(other) - len(other.lstrip())) < len(indent):
                    break
                if other.strip() and not other.lstrip().startswith("#"):
                    block.append(j)
                j += step
        block.sort()
        fields = {}
        for j in block:
            km = key.match(lines[j].rstrip("\r\n"))
            if km is None or km.group(1) != indent:
                return None, "a handler is not written one key per line: left unchanged"
            fields[km.group(2)] = (j, km)
        if "filename" not in fields or _TEMPLATE.search(fields["filename"][1].group(3)):
            return None, "a handler's file name is missing or a template: left unchanged"
        level = fields["level"][1].group(3).strip("\"',").upper() if "level" in fields else ""
        stream = "stderr" if level in {"ERROR", "CRITICAL"} else "stdout"
        json_style = text.lstrip().startswith("{")
        quote = '"' if json_style or m.group(3).startswith('"') else ""
        for j, name, value in ((i, "class", "logging.StreamHandler"),
                               (fields["filename"][0], "stream", f"ext://sys.{stream}")):
            km = key.match(lines[j].rstrip("\r\n"))
            assert km is not None
            k = f'"{name}"' if json_style else name
            out[j] = f"{km.group(1)}{k}: {quote}{value}{quote}{km.group(4)}{_eol(lines[j])}"
        for name, (j, _km) in fields.items():
            if name in _FILE_KEYS - {"filename"}:
                out[j] = ""
        if json_style:  # every kept key but the last ends with a comma
            kept = [j for j in block if out[j]]
            for j in kept:
                body = out[j].rstrip("\r\n").rstrip().rstrip(",")
                out[j] = body + ("," if j != kept[-1] else "") + _eol(lines[j])
        changed.append(f"handler -> sys.{stream}")
    if not changed:
        return None, "no file handler"
    return _line_spans(lines, out), ", ".join(changed)
