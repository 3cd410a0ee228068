"""The web app's hosting: a private bucket behind CloudFront (origin access control, HTTPS, security headers, the SPA
fallback), the build and config.json deployed into it, and the HTTP API's CORS naming the distribution."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, synthesize
from vehicle_platform_infra.functions import FUNCTIONS, TRUSTED_DOCUMENTS_FUNCTIONS, TRUSTED_DOCUMENTS_ONLY, logical_id
from vehicle_platform_infra.web import (
    CONFIG_OBJECT,
    ENTRY_CACHE_CONTROL,
    HASHED_CACHE_CONTROL,
    MissingBuild,
    built_app,
)

SPA_ORIGIN = "https://loja.example.com.br"
_MARKER = re.compile(r"<<marker:0xbaba:\d+>>")

Json = dict[str, Any]


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app served from another origin, and the API open to any document."""
    return synthesize(tmp_path_factory.mktemp("spa-elsewhere"), spaOrigin=SPA_ORIGIN, trustedDocuments="false")


def ref(construct: Any) -> Json:
    return {"Ref": logical_id(construct)}


def get_att(construct: Any, attribute: str) -> Json:
    return {"Fn::GetAtt": [logical_id(construct), attribute]}


def properties(synthesized: Synthesized, construct: Any) -> Json:
    resource: Json = synthesized.resources[logical_id(construct)]["Properties"]
    return resource


def distribution_config(synthesized: Synthesized) -> Json:
    config: Json = properties(synthesized, synthesized.stack.web.distribution)["DistributionConfig"]
    return config


def distribution_domain(synthesized: Synthesized) -> Json:
    return {"Fn::Join": ["", ["https://", get_att(synthesized.stack.web.distribution, "DomainName")]]}


def security_headers(synthesized: Synthesized) -> Json:
    config: Json = properties(synthesized, synthesized.stack.web.headers)["ResponseHeadersPolicyConfig"]
    headers: Json = config["SecurityHeadersConfig"]
    return headers


def csp_parts(synthesized: Synthesized) -> list[Any]:
    """The Content-Security-Policy as the Fn::Join's parts: literal text and the tokens between."""
    csp = security_headers(synthesized)["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    parts: list[Any] = csp["Fn::Join"][1]
    return parts


def csp_text(synthesized: Synthesized) -> str:
    """The policy with every token written as its JSON, to read the directives around them."""
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in csp_parts(synthesized))


def deployment_ids(synthesized: Synthesized) -> dict[str, str]:
    """The two deployments' custom resources, by logical id: the hashed assets' and the entry points'."""
    found = {
        name: [
            key
            for key, value in synthesized.of_type("Custom::CDKBucketDeployment").items()
            if key.startswith(f"Web{prefix}CustomResource")
        ]
        for name, prefix in (("assets", "Assets"), ("app", "App"))
    }
    assert all(len(keys) == 1 for keys in found.values()), found
    return {name: keys[0] for name, keys in found.items()}


def deployments(synthesized: Synthesized) -> dict[str, Json]:
    return {name: synthesized.resources[key] for name, key in deployment_ids(synthesized).items()}


def deployed_config(synthesized: Synthesized) -> tuple[Json, dict[str, Any]]:
    """config.json as staged for the deployment (each deploy-time value a marker) and the markers' values."""
    app = deployments(synthesized)["app"]["Properties"]
    [(key, markers)] = [
        (key, markers) for key, markers in zip(app["SourceObjectKeys"], app["SourceMarkers"], strict=True) if markers
    ]
    staged = synthesized.template_path.parent / f"asset.{key.removesuffix('.zip')}" / CONFIG_OBJECT
    text = staged.read_text()
    # Each marker stands for a JSON value (the handler writes the resolved value JSON-encoded in its place).
    document: Json = json.loads(_MARKER.sub(lambda match: json.dumps(match.group(0)), text))
    return document, markers


def environment(synthesized: Synthesized, name: str) -> dict[str, Any]:
    function = synthesized.stack.functions[name]
    variables: dict[str, Any] = properties(synthesized, function)["Environment"]["Variables"]
    return variables


# -- the bucket and its origin access ------------------------------------------------------------------------------


def test_the_bucket_is_private_encrypted_and_logged(synthesized: Synthesized) -> None:
    bucket = properties(synthesized, synthesized.stack.web.bucket)
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "WebsiteConfiguration" not in bucket
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == ref(synthesized.stack.data.access_logs)


def test_the_bucket_policy_admits_cloudfront_for_this_distribution_only(synthesized: Synthesized) -> None:
    web = synthesized.stack.web
    [policy] = [
        resource["Properties"]
        for resource in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if resource["Properties"]["Bucket"] == ref(web.bucket)
    ]
    statements = policy["PolicyDocument"]["Statement"]
    allows = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allows == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Resource": {"Fn::Join": ["", [get_att(web.bucket, "Arn"), "/*"]]},
            "Condition": {
                "StringEquals": {
                    "AWS:SourceArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":cloudfront::",
                                {"Ref": "AWS::AccountId"},
                                ":distribution/",
                                ref(web.distribution),
                            ],
                        ]
                    }
                }
            },
        }
    ]
    # And TLS only, as every bucket of the platform.
    [deny] = [statement for statement in statements if statement["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_origin_signs_its_requests_with_origin_access_control(synthesized: Synthesized) -> None:
    web = synthesized.stack.web
    [origin] = distribution_config(synthesized)["Origins"]
    assert origin["DomainName"] == get_att(web.bucket, "RegionalDomainName")
    [(control_id, control)] = synthesized.of_type("AWS::CloudFront::OriginAccessControl").items()
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [control_id, "Id"]}
    # No origin access identity (the legacy mechanism) beside it.
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    config = control["Properties"]["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always"
    assert config["SigningProtocol"] == "sigv4"
    assert not synthesized.of_type("AWS::CloudFront::CloudFrontOriginAccessIdentity")


# -- the distribution ----------------------------------------------------------------------------------------------


def test_viewers_are_sent_to_https_and_the_root_is_the_app(synthesized: Synthesized) -> None:
    config = distribution_config(synthesized)
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["Compress"] is True
    assert "CacheBehaviors" not in config
    assert config["DefaultRootObject"] == "index.html"
    assert config["PriceClass"] == "PriceClass_All"  # South America's edges
    assert config["Logging"]["Bucket"] == get_att(synthesized.stack.web.logs, "RegionalDomainName")


def test_client_side_routes_fall_back_to_index_html(synthesized: Synthesized) -> None:
    responses = distribution_config(synthesized)["CustomErrorResponses"]
    assert sorted(responses, key=lambda response: int(response["ErrorCode"])) == [
        {"ErrorCode": status, "ResponseCode": 200, "ResponsePagePath": "/index.html", "ErrorCachingMinTTL": 10}
        for status in (403, 404)
    ]


def test_every_response_carries_the_security_headers(synthesized: Synthesized) -> None:
    behavior = distribution_config(synthesized)["DefaultCacheBehavior"]
    assert behavior["ResponseHeadersPolicyId"] == ref(synthesized.stack.web.headers)
    headers = security_headers(synthesized)
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "strict-origin-when-cross-origin", "Override": True}
    assert all(header["Override"] is True for header in headers.values())


def test_the_csp_admits_the_app_its_apis_and_cognito_only(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    directives = dict(directive.strip().split(" ", 1) for directive in csp_text(synthesized).split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp_text(synthesized)
    connect = directives["connect-src"]
    assert connect.startswith("'self' ")
    parts = csp_parts(synthesized)
    # The WebSocket API exactly (wss://<id>.execute-api...), Cognito in the stack's region.
    assert get_att(stack.websocket.api, "ApiEndpoint") in parts
    assert " https://cognito-idp." in connect
    assert '{"Ref": "AWS::Region"}.amazonaws.com' in connect
    # The HTTP API: with the API's CORS naming the distribution, its exact origin would be a cycle (see stack.py).
    assert 'https://*.execute-api.{"Ref": "AWS::Region"}.amazonaws.com' in connect
    assert get_att(stack.http_api.api, "ApiEndpoint") not in parts


def test_the_csp_names_the_http_api_exactly_when_the_app_is_served_elsewhere(elsewhere: Synthesized) -> None:
    parts = csp_parts(elsewhere)
    assert get_att(elsewhere.stack.http_api.api, "ApiEndpoint") in parts
    assert "*" not in csp_text(elsewhere)


# -- what is deployed, and how it is cached -------------------------------------------------------------------------


def test_hashed_assets_are_cached_a_year_and_the_entry_points_revalidated(synthesized: Synthesized) -> None:
    found = deployments(synthesized)
    assets, app = found["assets"]["Properties"], found["app"]["Properties"]
    assert assets["DestinationBucketKeyPrefix"] == "assets/"
    assert assets["SystemMetadata"] == {"cache-control": HASHED_CACHE_CONTROL}
    assert "max-age=31536000" in HASHED_CACHE_CONTROL
    assert "immutable" in HASHED_CACHE_CONTROL
    assert assets["Prune"] is False  # an open page still finds the previous build's chunks
    assert "DestinationBucketKeyPrefix" not in app
    assert app["SystemMetadata"] == {"cache-control": ENTRY_CACHE_CONTROL} == {"cache-control": "no-cache"}
    assert app["Exclude"] == ["assets/*"]  # its pruning leaves the hashed assets alone
    assert app["DistributionId"] == ref(synthesized.stack.web.distribution)
    assert app["DistributionPaths"] == ["/*"]
    for deployment in (assets, app):
        assert deployment["DestinationBucketName"] == ref(synthesized.stack.web.bucket)
    # The hashed files are there before an index.html that names them.
    assert deployment_ids(synthesized)["assets"] in found["app"]["DependsOn"]


def test_the_build_is_deployed_without_source_maps(synthesized: Synthesized) -> None:
    outdir = synthesized.template_path.parent
    found = deployments(synthesized)
    staged = {
        name: [outdir / f"asset.{key.removesuffix('.zip')}" for key in found[name]["Properties"]["SourceObjectKeys"]]
        for name in found
    }
    hashed_files = {path.name for path in staged["assets"][0].iterdir()}
    assert any(name.startswith("index-") and name.endswith(".js") for name in hashed_files)
    assert not any(name.endswith(".map") for name in hashed_files)
    entry_files = {path.name for path in staged["app"][0].iterdir()}
    assert entry_files == {"index.html"}


def test_config_json_carries_the_apis_the_user_pool_and_trusted_documents(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    config, markers = deployed_config(synthesized)
    assert config["trustedDocuments"] is True
    assert config["environment"] == "aws"
    # No endpoint: the SDK talks to the region's Cognito (web/src/config.ts).
    assert set(config["cognito"]) == {"region", "userPoolId", "clientId"}

    def value(marker: str) -> Any:
        # The handler substitutes each marker with its value JSON-encoded: a string token arrives quoted.
        joined = markers[marker]["Fn::Join"][1]
        assert joined[0].startswith('"')
        assert joined[-1].endswith('"')
        return joined

    assert value(config["apiUrl"]) == ['"', get_att(stack.http_api.api, "ApiEndpoint"), '/graphql"']
    ws_url = value(config["wsUrl"])
    assert ref(stack.websocket.api) in ws_url
    assert ws_url[-1] == '/live"'
    assert value(config["cognito"]["region"]) == ['"', {"Ref": "AWS::Region"}, '"']
    assert value(config["cognito"]["userPoolId"]) == ['"', ref(stack.auth.user_pool), '"']
    assert value(config["cognito"]["clientId"]) == ['"', ref(stack.auth.client), '"']


def test_the_deployment_role_names_each_action_and_this_distribution(synthesized: Synthesized) -> None:
    web = synthesized.stack.web
    role = logical_id(web.deployment_role)
    statements = [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_action = {
        action: statement["Resource"]
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert all("*" not in action for action in by_action)
    assert by_action["s3:DeleteObject"] == {"Fn::Join": ["", [get_att(web.bucket, "Arn"), "/*"]]}
    invalidation = by_action["cloudfront:CreateInvalidation"]
    assert ref(web.distribution) in invalidation["Fn::Join"][1]
    # The role's policy exists before a deployment runs (CDK's grants, which would order it, are not used).
    policy = next(
        key
        for key, value in synthesized.of_type("AWS::IAM::Policy").items()
        if {"Ref": role} in value["Properties"]["Roles"]
    )
    assert policy in deployments(synthesized)["assets"]["DependsOn"]


def test_a_missing_build_fails_the_synthesis_saying_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(MissingBuild, match=r"make install"):
        built_app(tmp_path)
    (tmp_path / "index.html").write_text("<!doctype html>")
    with pytest.raises(MissingBuild, match=r"assets/"):
        built_app(tmp_path)


# -- the API's CORS, trusted documents, outputs ---------------------------------------------------------------------


def http_api_cors(synthesized: Synthesized) -> Json:
    cors: Json = properties(synthesized, synthesized.stack.http_api.api)["CorsConfiguration"]
    return cors


def test_the_api_admits_the_distribution_by_default(synthesized: Synthesized) -> None:
    assert http_api_cors(synthesized)["AllowOrigins"] == [distribution_domain(synthesized)]
    assert synthesized.stack.config.spa_origin is None


def test_the_api_admits_the_given_spa_origin_instead(elsewhere: Synthesized) -> None:
    assert http_api_cors(elsewhere)["AllowOrigins"] == [SPA_ORIGIN]


def test_trusted_documents_only_by_default_on_the_functions_that_run_documents(synthesized: Synthesized) -> None:
    for name in FUNCTIONS:
        expected = "1" if name in TRUSTED_DOCUMENTS_FUNCTIONS else None
        assert environment(synthesized, name).get(TRUSTED_DOCUMENTS_ONLY) == expected, name


def test_trusted_documents_can_be_turned_off(elsewhere: Synthesized) -> None:
    for name in FUNCTIONS:
        assert TRUSTED_DOCUMENTS_ONLY not in environment(elsewhere, name), name
    config, _ = deployed_config(elsewhere)
    assert config["trustedDocuments"] is False


def test_the_web_url_is_an_output(synthesized: Synthesized) -> None:
    assert synthesized.document["Outputs"]["WebUrl"]["Value"] == distribution_domain(synthesized)
