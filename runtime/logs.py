"""Logging for the Lambda handlers: Powertools' structured JSON on AWS, one readable line per event locally."""

from __future__ import annotations

import logging
import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from runtime.settings import get_settings


class ReadableFormatter(LambdaPowertoolsFormatter):
    """`18:02:11 INFO  saga.reserve-inventory  order=… event=InventoryReserved  vehicle reserved`."""

    def format(self, record: logging.LogRecord) -> str:
        extras = {name: value for name, value in record.__dict__.items() if name not in RESERVED_LOG_ATTRS}
        keys = {**self.thread_safe_get_current_keys(), **extras}
        context = " ".join(f"{name}={value}" for name, value in keys.items() if value is not None)
        line = f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {record.levelname:<5} {record.name}"
        line = f"{line}  {context}  {record.getMessage()}" if context else f"{line}  {record.getMessage()}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def service_logger(service: str) -> Logger:
    kwargs: dict[str, Any] = {"service": service}
    if get_settings().local_mode:
        kwargs["logger_formatter"] = ReadableFormatter()
    return Logger(**kwargs)
