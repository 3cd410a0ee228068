"""The business metrics a sale produces, as CloudWatch reads them from the function's log (EMF)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from domain.events import DomainEvent, EventType
from runtime import telemetry
from runtime.telemetry import NAMESPACE, BusinessMetric, MetricPoint, event_metrics, publish_metrics, step_latency

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


def _event(event_type: EventType, payload: dict[str, object]) -> DomainEvent:
    return DomainEvent(
        event_type=event_type, order_id="ord-1", correlation_id="ord-1", occurred_at=NOW, payload=payload
    )


def _emf_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_cancellation_counts_by_its_reason() -> None:
    assert event_metrics(_event(EventType.ORDER_CANCELLED, {"reason": "PAYMENT_EXPIRED"})) == (
        MetricPoint(BusinessMetric.ORDERS_CANCELLED, dimension=("Reason", "PAYMENT_EXPIRED")),
    )


def test_the_events_an_operator_watches_count_and_the_intermediate_ones_do_not() -> None:
    events = (
        _event(EventType.ORDER_PLACED, {"clientId": "c-1", "total": "10.00", "items": []}),
        _event(EventType.CLIENT_VALIDATED, {"clientId": "c-1"}),
        _event(EventType.PAYMENT_EXPIRED, {"paymentCode": "PAY-1"}),
        _event(EventType.REFUND_OWED, {"paymentCode": "PAY-1", "amount": "10.00", "endToEndId": "E-1"}),
        _event(EventType.REFUND_OWED, {"paymentCode": "PAY-1", "amount": "10.00", "endToEndId": "E-1", "attempt": 2}),
        _event(EventType.SALE_COMPLETED, {"clientId": "c-1", "amount": "10.00", "invoiceNumber": "NF-1", "items": []}),
    )
    assert [tuple(point.metric for point in event_metrics(event)) for event in events] == [
        (BusinessMetric.ORDERS_PLACED,),
        (),
        (BusinessMetric.PAYMENTS_EXPIRED,),
        (BusinessMetric.REFUNDS_OWED,),
        (BusinessMetric.REFUNDS_RETRIED,),
        (BusinessMetric.SALES_COMPLETED,),
    ]


def test_points_are_written_as_one_emf_line_each_with_their_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    publish_metrics([MetricPoint(BusinessMetric.ORDERS_PLACED), step_latency("complete-sale", 42.5)])
    placed, latency = _emf_lines(capsys.readouterr().out)
    assert placed["OrdersPlaced"] == [1.0]
    assert placed["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE  # type: ignore[index]
    assert latency["Step"] == "complete-sale"
    assert placed["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]  # type: ignore[index]
    assert latency["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [  # type: ignore[index]
        {"Name": "SagaStepLatency", "Unit": "Milliseconds"}
    ]


def test_metrics_turned_off_write_nothing(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    publish_metrics([MetricPoint(BusinessMetric.ORDERS_PLACED)])
    assert _emf_lines(capsys.readouterr().out) == []


def test_a_zero_count_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    publish_metrics([MetricPoint(BusinessMetric.CONNECTIONS_GONE, 0)])
    assert _emf_lines(capsys.readouterr().out) == []


def test_tracing_is_off_outside_lambda_and_the_xray_sdk_is_then_never_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    telemetry.tracer.cache_clear()
    assert telemetry.tracer() is None
    with telemetry.traced("step", order_id="ord-1", event_type="OrderPlaced"):
        pass
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "complete-sale")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert not telemetry.tracing_enabled()


class _Sent(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("sent")
        self.headers = headers


def _sns_client_that_records_the_trace_header() -> object:
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    telemetry.continue_trace(client, "sns.Publish")

    def sent(request: object, **_: object) -> None:
        raise _Sent(dict(request.headers))  # type: ignore[attr-defined]

    client.meta.events.register("before-send.sns.Publish", sent)
    return client


def test_an_event_is_published_in_the_trace_of_the_work_that_committed_it() -> None:
    client = _sns_client_that_records_the_trace_header()
    committed_in = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"
    with telemetry.trace_continued(committed_in), pytest.raises(_Sent) as sent:
        client.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:events", Message="{}")  # type: ignore[attr-defined]
    assert sent.value.headers["X-Amzn-Trace-Id"] == committed_in
    # Outside it, a publish carries no borrowed trace.
    with pytest.raises(_Sent) as sent:
        client.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:events", Message="{}")  # type: ignore[attr-defined]
    assert sent.value.headers.get("X-Amzn-Trace-Id") != committed_in


def test_the_trace_header_is_handed_on_only_where_tracing_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(telemetry.TRACE_HEADER_ENV, "Root=1-67891233-abcdef012345678912345678;Sampled=1")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert telemetry.current_trace_header() is None
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "complete-sale")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    assert telemetry.current_trace_header() == "Root=1-67891233-abcdef012345678912345678;Sampled=1"
