"""The Lambda entry point: the ASGI app behind Mangum (API Gateway HTTP API, payload format 2.0)."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from mangum import Mangum

from composition.aws import api_services
from graphql_api.app import create_app
from runtime.settings import get_settings
from runtime.telemetry import lambda_entry

logger = Logger(service="graphql-api")
# The app logs through the standard library; on Lambda those lines become Powertools' structured JSON.
copy_config_to_registered_loggers(source_logger=logger, include={"vehicle_platform"})

_settings = get_settings()
handler = lambda_entry(logger)(Mangum(create_app(_settings, api_services(_settings)), lifespan="off"))
