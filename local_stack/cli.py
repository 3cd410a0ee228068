"""`vehicle-platform`: the local stack's command line (dev, token)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence

import boto3

from local_stack.config import DEMO_PASSWORD, LocalConfig

log = logging.getLogger("vehicle_platform.local")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-5s %(name)s  %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("botocore", "boto3", "urllib3", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str) -> None:
    print(f"vehicle-platform: {message}", file=sys.stderr)


def _banner(config: LocalConfig) -> str:
    return "\n".join(
        [
            "",
            "Vehicle Platform local stack is up",
            f"  GraphQL API + GraphiQL  {config.api_url}/graphql",
            f"  Health                  {config.api_url}/health",
            f"  AWS emulator (moto)     {config.emulator_url}",
            "",
            "  Demo logins (password for all: " + DEMO_PASSWORD + ")",
            "    admin@example.com      admin",
            "    customer@example.com   customer, registered client",
            "    customer2@example.com  customer, registered client",
            "  Bearer token: vehicle-platform token customer@example.com",
            "  New customer: vehicle-platform signup someone@example.com",
            "",
            "  Ctrl-C stops everything.",
            "",
        ]
    )


def dev(config: LocalConfig) -> int:
    """Start the emulator, create every resource, seed demo data, serve the API; Ctrl-C stops it all."""
    import uvicorn

    from local_stack.emulator import Emulator
    from local_stack.resources import provision

    os.environ.update(config.environment())
    with Emulator(config.host, config.emulator_port):
        log.info("AWS emulator up at %s", config.emulator_url)
        provisioned = provision(config.emulator_url, config.region, config.table_name)
        os.environ.update(
            {
                "COGNITO_USER_POOL_ID": provisioned.user_pool_id,
                "COGNITO_CLIENT_ID": provisioned.user_pool_client_id,
                "COGNITO_JWKS_URL": f"{config.emulator_url}/{provisioned.user_pool_id}/.well-known/jwks.json",
            }
        )
        # The settings, and PynamoDB's table binding, are read only now that the environment is complete.
        from graphql_api.app import create_app
        from graphql_api.wiring import dynamo_services
        from local_stack.demo_data import seed_catalog_and_clients, seed_users
        from runtime.settings import get_settings

        settings = get_settings()
        services = dynamo_services(settings)
        cognito = boto3.client("cognito-idp")
        subjects = seed_users(cognito, provisioned.user_pool_id, DEMO_PASSWORD)
        seed_catalog_and_clients(services, subjects)

        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, services),
                host=config.host,
                port=config.api_port,
                access_log=False,
                log_config=None,
                lifespan="off",
            )
        )
        print(_banner(config), flush=True)
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises it; leaving the `with` stops the emulator.
        with contextlib.suppress(KeyboardInterrupt):
            server.run()
    log.info("local stack stopped")
    return 0


def token(config: LocalConfig, email: str) -> int:
    """Print an ID token for a user of the running local stack."""
    from local_stack.users import LocalUserPool, TokenUnavailable

    try:
        print(LocalUserPool(config.emulator_url, config.region).token(email))
    except TokenUnavailable as error:
        _fail(str(error))
        return 1
    return 0


def signup(config: LocalConfig, email: str) -> int:
    """Sign a new customer up (confirmed, password as the demo users') and print their token."""
    from domain.errors import ValidationFailed
    from domain.values import Email
    from local_stack.users import LocalUserPool, TokenUnavailable

    try:
        address = Email.parse(email).value
        print(LocalUserPool(config.emulator_url, config.region).sign_up(address))
    except (TokenUnavailable, ValidationFailed) as error:
        _fail(str(error))
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vehicle-platform", description="Vehicle Platform local stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="start the whole platform on this machine (moto, API); Ctrl-C stops it")
    token_parser = commands.add_parser("token", help="print a bearer token for a demo user")
    token_parser.add_argument("email")
    signup_parser = commands.add_parser("signup", help="sign a new customer up and print their bearer token")
    signup_parser.add_argument("email")
    arguments = parser.parse_args(argv)

    _configure_logging()
    config = LocalConfig.from_env()
    if arguments.command == "dev":
        try:
            return dev(config)
        except KeyboardInterrupt:
            log.info("local stack stopped during start-up")
            return 130
    if arguments.command == "signup":
        return signup(config, arguments.email)
    return token(config, arguments.email)


if __name__ == "__main__":
    sys.exit(main())
