"""Log lines as JSON objects, one a line, for log collectors (``--log-format json``): the
fields a collector indexes (time, level, logger, message) and the traceback, if any,
without parsing free text."""

from __future__ import annotations

import json
import logging
import time

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for a --log-format value (the settings allow only LOG_FORMATS)."""
    if log_format == "json":
        json_formatter = JsonFormatter()
        json_formatter.converter = time.gmtime  # UTC, as the Z says
        return json_formatter
    return logging.Formatter(TEXT_FORMAT)
