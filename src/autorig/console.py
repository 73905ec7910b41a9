"""The lines the engine CLI writes for whoever runs it (the worker), written and read here only.

    autorig: progress <stage> <fraction 0..1>     stdout, as each stage starts
    autorig: wrote <file>                         stdout, when an output is complete
    autorig: warning: <sentence>                  stdout
    autorig: error: <code words>: <sentence>      stderr, last line, exit code 2: the input's fault,
                                                  e.g. ``autorig: error: not a biped: no legs found``
                                                  (the code ``not_a_biped`` with spaces for ``_``)
    autorig: internal error: <sentence>           stderr, last line, exit code 1: a bug

Nothing heavier than ``protocol`` is imported: the worker reads these without loading the engine.
"""

from __future__ import annotations

import re

from autorig.protocol import ENGINE_ERROR_CODES, INTERNAL

PREFIX = "autorig: "
ERROR_PREFIX = "autorig: error: "
INTERNAL_PREFIX = "autorig: internal error: "
PROGRESS_LINE = re.compile(r"^autorig: progress (?P<stage>[\w.:/-]+) (?P<fraction>[0-9]*\.?[0-9]+)\s*$")


def progress_line(stage: str, fraction: float) -> str:
    return f"{PREFIX}progress {stage} {fraction:.3f}"


def wrote_line(filename: str) -> str:
    return f"{PREFIX}wrote {filename}"


def warning_line(sentence: str) -> str:
    return f"{PREFIX}warning: {sentence}"


def error_sentence(code: str, reason: str) -> str:
    """'not a biped: <reason>': the readable form of an input error (what a job's ``error`` shows)."""
    return f"{code.replace('_', ' ')}: {reason}"


def error_line(code: str, reason: str) -> str:
    return ERROR_PREFIX + error_sentence(code, reason)


def internal_line(sentence: str) -> str:
    return INTERNAL_PREFIX + sentence


def parse_progress(line: str) -> tuple[str, float] | None:
    """(stage, fraction clamped to 0..1) of a progress line, else None."""
    m = PROGRESS_LINE.match(line.strip())
    if not m:
        return None
    return m["stage"], min(1.0, max(0.0, float(m["fraction"])))


def parse_error(line: str) -> tuple[str, str] | None:
    """(code, sentence) of an engine's last stderr line, else None. The sentence keeps the code's
    words ('not a biped: no legs found'); an internal error has the code ``internal``."""
    line = line.strip()
    if line.startswith(INTERNAL_PREFIX):
        return INTERNAL, line[len(PREFIX) :]
    if not line.startswith(ERROR_PREFIX):
        return None
    sentence = line[len(ERROR_PREFIX) :]
    for code in ENGINE_ERROR_CODES:
        if sentence.startswith(code.replace("_", " ") + ":"):
            return code, sentence
    return INTERNAL, sentence
