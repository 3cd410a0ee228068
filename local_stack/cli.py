"""`vehicle-platform`: the local stack's command line (dev, token, signup, pay, pix, mail, intake, dlq)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3

from local_stack.config import DEMO_PASSWORD, LocalConfig

log = logging.getLogger("vehicle_platform.local")


def configure_logging() -> None:
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
            f"  Web app (storefront + back office)  {config.web_url}",
            f"  GraphQL API             {config.api_url}/graphql  (explorer: {config.web_url}/admin/explorador)",
            f"  Health                  {config.api_url}/health",
            f"  WebSocket (graphql-transport-ws)  {config.ws_url}",
            f"  AWS emulator (moto)     {config.emulator_url}",
            f"  Local PSP (API Pix)     {config.psp_url}/api/v2",
            "",
            "  Demo logins (password for all: " + DEMO_PASSWORD + ")",
            "    admin@example.com      admin",
            "    customer@example.com   customer, registered client",
            "    customer2@example.com  customer, registered client",
            "  Bearer token: vehicle-platform token customer@example.com",
            "  New customer: vehicle-platform signup someone@example.com",
            "  Pay an order:  vehicle-platform pay BRCODE|TXID [--amount X] [--fail] [--no-webhook]",
            "  Pix at the PSP: vehicle-platform pix;  emails: vehicle-platform mail",
            "  Batch orders:  vehicle-platform intake FILE  (prints the file's report)",
            "  Dead letters:  vehicle-platform dlq [--redrive-all]",
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
        os.environ.update(provisioned.function_environment(config.emulator_url))
        os.environ["WS_MANAGEMENT_URL"] = f"http://{config.host}:{config.ws_port}"
        # The settings, and PynamoDB's table binding, are read only now that the environment is complete.
        from composition.aws import api_services
        from graphql_api.app import create_app
        from local_stack.demo_data import seed_catalog_and_clients, seed_users
        from local_stack.lambda_asgi import LambdaRoute
        from local_stack.pix_psp import LocalPsp, PspServer, PspSettings
        from local_stack.platform import realtime_event_sources, saga_event_sources
        from local_stack.web_server import WebServer, runtime_config
        from local_stack.ws_gateway import GatewayProcess
        from runtime.settings import get_settings
        from sagas import webhook

        settings = get_settings()
        # The PSP calls `{webhookUrl}/pix`, so the webhook URL it is given is the API's /webhooks.
        psp = LocalPsp(
            PspSettings(
                chave=settings.pix.chave,
                webhook_url=f"{config.api_url}/webhooks",
                webhook_secret=settings.pix.webhook_secret,
            )
        )
        psp_server = PspServer(psp, config.host, config.psp_port)
        services = api_services(settings)
        cognito = boto3.client("cognito-idp")
        subjects = seed_users(cognito, provisioned.user_pool_id, DEMO_PASSWORD)
        seed_catalog_and_clients(services, subjects)

        # The webhook is its own Lambda on AWS, behind the same HTTP API: here, a route of the same server.
        app = create_app(settings, services, {"/webhooks/pix": LambdaRoute(webhook.handler, "pix-webhook")})
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=config.host,
                port=config.api_port,
                access_log=False,
                log_config=None,
                lifespan="off",
            )
        )
        # Stopped in reverse: the pollers first, so that nothing in flight finds the gateway gone.
        spa_config = runtime_config(config, provisioned.user_pool_id, provisioned.user_pool_client_id)
        with (
            psp_server,
            WebServer(config.host, config.web_port, spa_config),
            # Its own process, serving the same handlers (local_stack/ws_gateway.py, GatewayProcess).
            GatewayProcess(
                config.host,
                config.ws_port,
                idle_timeout=config.ws_idle_timeout,
                max_duration=config.ws_max_duration,
            ),
            saga_event_sources(
                provisioned, expiry_interval=config.expiry_interval, reconcile_interval=config.reconcile_interval
            ),
            realtime_event_sources(provisioned, keepalive_interval=settings.realtime.sweep_seconds),
        ):
            print(_banner(config), flush=True)
            # uvicorn shuts down gracefully on Ctrl-C, then re-raises it; leaving the `with` stops the gateway, the
            # pollers, then the emulator.
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


def pay(config: LocalConfig, code: str, *, amount: str | None, fail: bool, webhook: bool) -> int:
    from local_stack.operations import OperationFailed
    from local_stack.operations import pay as pay_at_psp

    try:
        print(json.dumps(pay_at_psp(config, code, amount=amount, fail=fail, webhook=webhook)))
    except OperationFailed as error:
        _fail(str(error))
        return 1
    return 0


def pix(config: LocalConfig) -> int:
    from local_stack.operations import OperationFailed, pix_activity

    try:
        activity = pix_activity(config)
    except OperationFailed as error:
        _fail(str(error))
        return 1
    for cob in activity["charges"]:
        print(f"charge  {cob['txid']}  {cob['status']}  R$ {cob['valor']['original']}  {cob.get('pixCopiaECola', '')}")
    for received in activity["pix"]:
        print(f"pix     {received['endToEndId']}  txid {received.get('txid', '-')}  R$ {received['valor']}")
    for refund in activity["refunds"]:
        print(f"refund  {refund['id']}  of {refund['endToEndId']}  {refund['status']}  R$ {refund['valor']}")
    counts = {name: len(items) for name, items in activity.items()}
    print(f"{counts['charges']} charge(s), {counts['pix']} Pix received, {counts['refunds']} refund(s)")
    return 0


def mail(config: LocalConfig) -> int:
    from local_stack.operations import OperationFailed, sent_emails, staff_notifications

    try:
        emails = sent_emails(config)
        notifications = staff_notifications(config)
    except OperationFailed as error:
        _fail(str(error))
        return 1
    for email in emails:
        print(f"To: {', '.join(email['to'])}\nSubject: {email['subject']}\n\n{email['body']}\n{'-' * 72}")
    # On AWS the staff get these by email, through their subscriptions to the topics.
    for notification in notifications:
        print(
            f"To: staff ({notification['topic']})\nSubject: {notification['subject']}\n\n"
            f"{notification['body']}\n{'-' * 72}"
        )
    print(f"{len(emails)} email(s) sent")
    print(f"{len(notifications)} staff notification(s) published")
    return 0


def intake(config: LocalConfig, file: str, *, timeout: float) -> int:
    from local_stack.operations import OperationFailed, drop_batch_file

    try:
        key, report = drop_batch_file(config, Path(file), timeout=timeout)
    except OSError as error:
        _fail(f"cannot read {file}: {error.strerror or error}")
        return 1
    except OperationFailed as error:
        _fail(str(error))
        return 1
    print(json.dumps(report, indent=2, ensure_ascii=False))
    outcome = report["fileError"] or f"{len(report['accepted'])} accepted, {len(report['rejected'])} rejected"
    print(f"{key}: {outcome}", file=sys.stderr)
    return 0


def dlq(config: LocalConfig, *, redrive_queue: str | None, redrive_all: bool) -> int:
    from local_stack.operations import dead_letters, redrive

    if redrive_all or redrive_queue:
        moved = redrive(config, None if redrive_all else redrive_queue)
        print(f"moved {moved} message(s) back to their queue")
        return 0
    letters = dead_letters(config)
    for letter in letters:
        print(f"{letter.queue}  {letter.message_id}  received {letter.receive_count}x  {letter.body[:200]}")
    print(f"{len(letters)} dead letter(s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vehicle-platform", description="Vehicle Platform local stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "dev", help="start the whole platform on this machine (moto, API, saga); Ctrl-C stops it"
    ).set_defaults(run=lambda config, _: dev(config))
    token_parser = commands.add_parser("token", help="print a bearer token for a demo user")
    token_parser.add_argument("email")
    token_parser.set_defaults(run=lambda config, arguments: token(config, arguments.email))
    signup_parser = commands.add_parser("signup", help="sign a new customer up and print their bearer token")
    signup_parser.add_argument("email")
    signup_parser.set_defaults(run=lambda config, arguments: signup(config, arguments.email))
    pay_parser = commands.add_parser(
        "pay", help="pay a charge at the local PSP by its BR Code or txid, as the customer's bank app would"
    )
    pay_parser.add_argument("code", help="the copy-and-paste BR Code, or the txid (the order's payment code)")
    pay_parser.add_argument("--amount", help="pay this amount (e.g. 100.00) instead of the charge's")
    pay_parser.add_argument("--fail", action="store_true", help="the payer's bank refuses: nothing is paid")
    pay_parser.add_argument(
        "--no-webhook", action="store_true", help="do not call the webhook (the reconciliation must find the Pix)"
    )
    pay_parser.set_defaults(
        run=lambda config, arguments: pay(
            config, arguments.code, amount=arguments.amount, fail=arguments.fail, webhook=not arguments.no_webhook
        )
    )
    commands.add_parser("pix", help="list the local PSP's charges, the Pix received and the refunds").set_defaults(
        run=lambda config, _: pix(config)
    )
    commands.add_parser("mail", help="list the emails sent and the staff's notifications").set_defaults(
        run=lambda config, _: mail(config)
    )
    intake_parser = commands.add_parser(
        "intake",
        help="drop a batch order file (seed 002's format) in the intake bucket and print its report",
        description='Upload FILE to the intake bucket as incoming/<UTC time>-<name> (".json" appended to a name '
        "without it: only such keys reach the intake), wait for its report "
        "(<key>.report.json) and print it as JSON: the accepted order ids, and each rejected order with every "
        "field error (also published on the order-errors topic: see `vehicle-platform mail`). Exits 0 once the "
        "report is written, even if it rejects orders or the whole file; 1 if FILE cannot be read, the stack "
        "does not answer, or no report comes within --timeout.",
    )
    intake_parser.add_argument("file", help="a JSON file: one order object, or an array of them")
    intake_parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the report (default: 60)"
    )
    intake_parser.set_defaults(run=lambda config, arguments: intake(config, arguments.file, timeout=arguments.timeout))
    dlq_parser = commands.add_parser("dlq", help="list dead letters; --redrive moves them back to their queue")
    dlq_parser.add_argument("--redrive", metavar="QUEUE", help="redrive one queue's dead letters")
    dlq_parser.add_argument("--redrive-all", action="store_true", help="redrive every queue's dead letters")
    dlq_parser.set_defaults(
        run=lambda config, arguments: dlq(config, redrive_queue=arguments.redrive, redrive_all=arguments.redrive_all)
    )
    arguments = parser.parse_args(argv)

    configure_logging()
    try:
        result: int = arguments.run(LocalConfig.from_env(), arguments)
    except KeyboardInterrupt:
        log.info("stopped")
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
