"""The webhook behind mutual TLS, the API Pix's own way for a PSP to call it (issue 13): a context option."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.infra.conftest import Synthesized, synthesize
from vehicle_platform_infra.stack import ConfigurationError

MTLS_CONTEXT = {
    "pixWebhookDomain": "pix-webhook.concessionaria.example",
    "pixWebhookCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f6a3c2e-1111-2222-3333-444455556666",
    "pixWebhookTruststore": "s3://concessionaria-truststore/psp-ca.pem",
}


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("mtls"), **MTLS_CONTEXT)


def _webhook_routes(synthesized: Synthesized) -> list[dict[str, object]]:
    return [
        route["Properties"]
        for route in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["RouteKey"] == "POST /webhooks/pix"
    ]


def test_the_webhook_has_an_api_of_its_own_reachable_only_through_its_mutual_tls_domain(mtls: Synthesized) -> None:
    (domain,) = mtls.of_type("AWS::ApiGatewayV2::DomainName").values()
    assert domain["Properties"]["DomainName"] == MTLS_CONTEXT["pixWebhookDomain"]
    assert domain["Properties"]["MutualTlsAuthentication"] == {
        "TruststoreUri": "s3://concessionaria-truststore/psp-ca.pem"
    }
    assert (
        domain["Properties"]["DomainNameConfigurations"][0]["CertificateArn"]
        == (MTLS_CONTEXT["pixWebhookCertificateArn"])
    )
    apis = {name: api["Properties"] for name, api in mtls.of_type("AWS::ApiGatewayV2::Api").items()}
    webhook_apis = [name for name, api in apis.items() if api.get("DisableExecuteApiEndpoint") is True]
    assert len(webhook_apis) == 1
    # The one webhook route is on that API (not on the GraphQL API), mapped to the domain.
    (route,) = _webhook_routes(mtls)
    assert route["ApiId"] == {"Ref": webhook_apis[0]}
    (mapping,) = mtls.of_type("AWS::ApiGatewayV2::ApiMapping").values()
    assert mapping["Properties"]["ApiId"] == {"Ref": webhook_apis[0]}
    outputs = mtls.document["Outputs"]
    assert outputs["WebhookUrl"]["Value"] == "https://pix-webhook.concessionaria.example/webhooks"
    assert "PixWebhookDomainTarget" in outputs


def test_without_the_option_the_webhook_is_a_route_of_the_api_checked_by_its_secret(synthesized: Synthesized) -> None:
    assert synthesized.of_type("AWS::ApiGatewayV2::DomainName") == {}
    (route,) = _webhook_routes(synthesized)
    api = synthesized.stack.http_api.api.node.default_child
    assert route["ApiId"] == {"Ref": synthesized.stack.get_logical_id(api)}  # type: ignore[arg-type]
    assert "PixWebhookDomainTarget" not in synthesized.document["Outputs"]


def test_cdk_nag_finds_nothing_unsuppressed_in_the_mutual_tls_variant(mtls: Synthesized) -> None:
    outdir = Path(mtls.template_path).parent
    reports = sorted(outdir.glob("*-NagReport.csv"))
    assert reports, "cdk-nag wrote no report"
    findings = []
    for report in reports:
        with report.open(newline="") as rows:
            findings += [row for row in csv.DictReader(rows) if row["Compliance"] == "Non-Compliant"]
    assert findings == [], json.dumps(findings, indent=1)


def test_the_option_is_all_three_values_or_none(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="pixWebhookTruststore"):
        synthesize(tmp_path, pixWebhookDomain="pix.example", pixWebhookCertificateArn="arn:aws:acm:x")
    with pytest.raises(ConfigurationError, match=r"s3://bucket/key\.pem"):
        synthesize(tmp_path, **{**MTLS_CONTEXT, "pixWebhookTruststore": "https://not-s3/ca.pem"})
