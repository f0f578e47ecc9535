"""Tandem's log: Python's `logging`, one logger per module (`logging.getLogger(__name__)`).

Run by systemd, it goes to the journal (standard error, each line prefixed with its syslog
priority, which journald reads); otherwise to a file under the platform's log folder, rotated at
5 MB with 5 old files kept. Every line passes through `core.secrets.redact` and a pattern for
the platforms' token shapes, so a credential never reaches a log whatever a message carries.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import time
from pathlib import Path

import platformdirs

from core.secrets import MASK, redact

ROOTS = ("cli", "core", "tui")
LOG_NAME = "tandem.log"
ROTATE_BYTES, ROTATE_KEEP = 5_000_000, 5
# Shopify access tokens (admin, custom app, client credentials), WooCommerce keys, bearer headers.
TOKEN_SHAPES = re.compile(r"\b(shp(?:at|ca|ss|pa)_[0-9A-Za-z]+|c[ks]_[0-9a-f]{20,}|Bearer\s+[\w.~+/=-]+)")
SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir("tandem"))


def log_file(demo: bool = False) -> Path:
    """The shop's log; the demo's goes to a file of its own, never mixed into the shop's."""
    return log_dir() / ("demo.log" if demo else LOG_NAME)


def under_systemd(environ=None) -> bool:
    """Started by systemd with its output going to the journal."""
    env = os.environ if environ is None else environ
    return bool(env.get("JOURNAL_STREAM") and env.get("INVOCATION_ID"))


def scrub(text: str) -> str:
    return TOKEN_SHAPES.sub(MASK, redact(text))


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JournalFormatter(ScrubbingFormatter):
    """journald takes `<N>` at the start of a line as its priority; it adds the time itself."""

    def format(self, record: logging.LogRecord) -> str:
        priority = SYSLOG_PRIORITY.get(record.levelno, 6)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """The log names customers' orders: readable by the shop's account only."""

    def _open(self):
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(descriptor, self.mode, encoding=self.encoding, errors=self.errors)


_installed: list[logging.Handler] = []


def stop_logging() -> None:
    """Undo `setup_logging` (its handlers closed)."""
    for handler in _installed:
        for name in ROOTS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
    _installed.clear()


def setup_logging(*, verbose: bool = False, echo: bool = False, environ=None, demo: bool = False) -> Path | None:
    """Send Tandem's loggers to the journal or the log file, at INFO (DEBUG with `verbose`); with
    `echo`, also to standard error (a headless run in a terminal). Returns the file, if any.
    Calling it again replaces what an earlier call set up."""
    stop_logging()
    handlers: list[logging.Handler] = []
    path = None
    if under_systemd(environ):
        journal = logging.StreamHandler(sys.stderr)
        journal.setFormatter(JournalFormatter("%(name)s: %(message)s"))
        handlers.append(journal)
    else:
        path = log_file(demo)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            file_handler = _PrivateRotatingFile(path, maxBytes=ROTATE_BYTES, backupCount=ROTATE_KEEP,
                                                encoding="utf-8")
        except OSError:
            path = None  # a read-only home: log nowhere rather than refuse to work
        else:
            formatter = ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            formatter.converter = time.gmtime  # UTC, whatever the machine's zone
            formatter.default_time_format, formatter.default_msec_format = "%Y-%m-%dT%H:%M:%S", "%s.%03dZ"
            file_handler.setFormatter(formatter)
            handlers.append(file_handler)
        if echo:
            echoed = logging.StreamHandler(sys.stderr)
            echoed.setFormatter(ScrubbingFormatter("%(levelname)s %(name)s: %(message)s"))
            handlers.append(echoed)
    level = logging.DEBUG if verbose else logging.INFO
    for name in ROOTS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = True
        for handler in handlers:
            logger.addHandler(handler)
    _installed.extend(handlers)
    return path


# A decision taken inside a transaction is logged once that transaction commits: a page of orders
# rolled back (a crash, a conflict) must not leave lines saying it was imported.
PENDING = "tandem_pending_logs"


def when_committed(conn, logger: logging.Logger, message: str, *args, level: int = logging.INFO) -> None:
    """Log `message % args` when `conn`'s transaction commits (at once outside a transaction)."""
    if not logger.isEnabledFor(level):
        return
    if not conn.in_transaction():
        logger.log(level, message, *args)
        return
    conn.info.setdefault(PENDING, []).append((logger, level, message, args))


def _flush(conn) -> None:
    for logger, level, message, args in conn.info.pop(PENDING, []):
        logger.log(level, message, *args)


def _discard(conn) -> None:
    conn.info.pop(PENDING, None)


def watch_commits(engine) -> None:
    """Hook an engine's commits and rollbacks to the pending decisions (core.db does it for each)."""
    from sqlalchemy import event

    event.listen(engine, "commit", _flush)
    event.listen(engine, "rollback", _discard)
