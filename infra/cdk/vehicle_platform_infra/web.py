"""The SPA (web/) on AWS: a private bucket behind a CloudFront distribution, the built files and a generated
`config.json` deployed into it.

- The bucket is private (no public access, no website endpoint): CloudFront reads it through origin access control,
  and the bucket policy admits the CloudFront service principal for this distribution only.
- Viewers are redirected to HTTPS; every response carries the security headers (HSTS, nosniff, DENY framing, a
  referrer policy and a Content-Security-Policy naming the API, the WebSocket and Cognito).
- Client-side routes (`/pedidos/ORD-1`) are not objects: S3 answers 403 (CloudFront may not list the bucket), and
  the distribution answers `/index.html` with 200 in its place, so a deep link or a reload opens the app.
- Caching: `assets/` holds Vite's content-hashed files, cached a year and immutable; `index.html` and `config.json`
  are `no-cache` (the browser revalidates, a 304 most of the time), and each deployment invalidates the distribution.
- `config.json` is what the app reads at start (web/src/config.ts), written at deployment time from the stack's
  resources; `cognito.endpoint` is left out so that the SDK talks to the region's Cognito.

The local stack serves web/dist itself (local_stack/web_server.py), so none of this has a local counterpart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct, IConstruct

from vehicle_platform_infra import suppress
from vehicle_platform_infra.api import cfn_resource
from vehicle_platform_infra.data import ACCESS_LOG_EXPIRY, private_bucket

# The build `make install` makes (npm ci && npm run build in web/).
WEB_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
CONFIG_OBJECT = "config.json"
INDEX_OBJECT = "index.html"
# Vite's output folder for the content-hashed files (build.assetsDir).
ASSETS_FOLDER = "assets"
# Source maps stay out of the bucket: the browser asks for them only with its developer tools open.
NOT_DEPLOYED = ("*.map",)
# A hashed file never changes under its name; the entry points must be revalidated on every load.
HASHED_CACHE_CONTROL = "public, max-age=31536000, immutable"
ENTRY_CACHE_CONTROL = "no-cache"
# How long CloudFront keeps the SPA fallback (the index.html answered for a client-side route).
FALLBACK_TTL = Duration.seconds(10)
HSTS_MAX_AGE = Duration.days(365)
# The deployment function copies the build (about 2 MB without source maps) from the asset bucket.
DEPLOYMENT_MEMORY_MB = 512
DEPLOYMENT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class MissingBuild(FileNotFoundError):
    """web/dist has not been built: the CDK app has nothing to deploy."""


def built_app(dist: Path = WEB_DIST) -> Path:
    """The SPA's build folder, checked: a synthesis without it would deploy an empty site."""
    if not (dist / INDEX_OBJECT).is_file() or not (dist / ASSETS_FOLDER).is_dir():
        raise MissingBuild(
            f"{dist} holds no built web app ({INDEX_OBJECT} and {ASSETS_FOLDER}/): run `make install` from the "
            "repository's root first (it runs `npm ci && npm run build` in web/)"
        )
    return dist


def cognito_origin(region: str) -> str:
    """Where amazon-cognito-identity-js sends sign-up, sign-in and refresh calls."""
    return f"https://cognito-idp.{region}.amazonaws.com"


def content_security_policy(*, api_origin: str, websocket_origin: str, cognito_origin: str) -> str:
    """The app's Content-Security-Policy: its own files only (no inline script or style, no eval), and connections
    to the GraphQL API, the WebSocket and Cognito. The origins may be CDK tokens (resolved at deployment)."""
    directives: dict[str, Sequence[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", api_origin, websocket_origin, cognito_origin],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class WebHosting(Construct):
    """The bucket, the distribution and its headers; `deploy_app` adds the files once the APIs exist."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        access_logs: s3.IBucket,
        api_origin: str,
        websocket_origin: str,
        removal_policy: RemovalPolicy,
        dist: Path = WEB_DIST,
    ) -> None:
        super().__init__(scope, id)
        self.dist = built_app(dist)
        stack = Stack.of(self)
        region = stack.region
        # CloudFront's policies and origin access controls are named per account, not per region: the name says
        # both, so that the stack deploys to two regions of one account (a staging and a production).
        name = f"{stack.stack_name}-web-{region}"

        # Nothing but the build and config.json: every object can be rebuilt, so no versioning.
        self.bucket = private_bucket(
            self,
            "Bucket",
            removal_policy=removal_policy,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="web/",
        )
        # CloudFront's standard logs are still written with an ACL grant to its log-delivery account: this bucket
        # alone has ACLs on (the object owner is still the bucket owner), everything else stays ACL-free.
        self.logs = private_bucket(
            self,
            "CdnLogs",
            removal_policy=removal_policy,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=ACCESS_LOG_EXPIRY)],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="cdn-logs/",
        )

        self.content_security_policy = content_security_policy(
            api_origin=api_origin, websocket_origin=websocket_origin, cognito_origin=cognito_origin(region)
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{name}-headers",
            comment="Vehicle Platform web app: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=self.content_security_policy, override=True
                ),
            ),
        )

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Vehicle Platform web app",
            default_root_object=INDEX_OBJECT,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket,
                    origin_access_control=cloudfront.S3OriginAccessControl(
                        self,
                        "OriginAccess",
                        origin_access_control_name=f"{name}-oac",
                        signing=cloudfront.Signing.SIGV4_ALWAYS,
                    ),
                    origin_access_levels=[cloudfront.AccessLevel.READ],
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                # Honours each object's Cache-Control (set by the deployments below) within 1 s .. 1 year.
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
            # The SPA fallback. S3 answers 403 for a key it does not hold (CloudFront may read, not list).
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=status,
                    response_http_status=200,
                    response_page_path=f"/{INDEX_OBJECT}",
                    ttl=FALLBACK_TTL,
                )
                for status in (403, 404)
            ],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # The customers are in Brazil: South America's edge locations are in the "all" price class only.
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
        )
        self.url: str = f"https://{self.distribution.distribution_domain_name}"
        self._suppress_distribution_findings()

    def deploy_app(self, config: Mapping[str, Any]) -> None:
        """Deploy the build and `config` (web/src/config.ts's RuntimeConfig; deploy-time values allowed) as
        config.json. The hashed assets go first, so that a new index.html never names a file not yet there."""
        # The build as two assets (CDK zips each folder when it publishes it to its bootstrap bucket).
        hashed = s3_assets.Asset(self, "HashedFiles", path=str(self.dist / ASSETS_FOLDER), exclude=list(NOT_DEPLOYED))
        entry = s3_assets.Asset(self, "EntryFiles", path=str(self.dist), exclude=[ASSETS_FOLDER, *NOT_DEPLOYED])

        # CDK's deployment function (one per stack and memory size, shared by both deployments) runs with this
        # role. BucketDeployment would grant it wildcard actions (s3:GetObject*, s3:DeleteObject*, s3:List*, and
        # the invalidation on `*`): it gets the role without policy updates, and the role holds what the handler
        # calls (aws s3 cp from the asset bucket, aws s3 sync --delete into the web bucket, an invalidation of this
        # distribution), action by action.
        log_group = logs.LogGroup(self, "DeploymentLogs", retention=DEPLOYMENT_LOG_RETENTION)
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Vehicle Platform: copies the web app into its bucket",
        )
        log_group.grant_write(role)
        distribution_arn = Stack.of(self).format_arn(
            service="cloudfront", region="", resource="distribution", resource_name=self.distribution.distribution_id
        )
        grants: list[tuple[list[str], list[str]]] = [
            (["s3:GetObject"], [hashed.bucket.arn_for_objects("*")]),
            (["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketTagging"], [self.bucket.bucket_arn]),
            (["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], [self.bucket.arn_for_objects("*")]),
            (["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"], [distribution_arn]),
        ]
        for actions, resources in grants:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        common: dict[str, Any] = {
            "destination_bucket": self.bucket,
            "memory_limit": DEPLOYMENT_MEMORY_MB,
            "role": role.without_policy_updates(),
            "log_group": log_group,
        }
        assets = s3deploy.BucketDeployment(
            self,
            "Assets",
            sources=[s3deploy.Source.bucket(hashed.bucket, hashed.s3_object_key)],
            destination_key_prefix=f"{ASSETS_FOLDER}/",
            cache_control=[s3deploy.CacheControl.from_string(HASHED_CACHE_CONTROL)],
            # The previous build's chunks stay: a page opened before the deployment still loads its lazy routes.
            prune=False,
            **common,
        )
        self.app_deployment = s3deploy.BucketDeployment(
            self,
            "App",
            sources=[
                s3deploy.Source.bucket(entry.bucket, entry.s3_object_key),
                s3deploy.Source.json_data(CONFIG_OBJECT, dict(config)),
            ],
            # Never prune what the other deployment writes.
            exclude=[f"{ASSETS_FOLDER}/*"],
            cache_control=[s3deploy.CacheControl.from_string(ENTRY_CACHE_CONTROL)],
            distribution=self.distribution,
            distribution_paths=["/*"],
            **common,
        )
        # The role takes no grants from the deployments, so nothing else orders its policy before their runs.
        assets.node.add_dependency(role)
        self.app_deployment.node.add_dependency(assets)
        self.asset_deployment = assets
        self.deployment_role = role
        self._suppress_deployment_findings(role)

    def _suppress_deployment_findings(self, role: iam.Role) -> None:
        bucket = Stack.of(self).get_logical_id(cfn_resource(self.bucket))
        suppress(
            role.node.find_child("DefaultPolicy"),
            ["AwsSolutions-IAM5"],
            "Object-level grants of the deployment function: it reads the zipped build from the CDK bootstrap's "
            "asset bucket (keys made when the assets are published), and writes and prunes any key of the web "
            "bucket, which holds nothing but the app.",
            applies_to=[
                "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
                f"Resource::<{bucket}.Arn>/*",
            ],
        )
        handler = _deployment_handler(Stack.of(self))
        suppress(
            handler,
            ["AwsSolutions-L1", "Serverless-LambdaLatestVersion"],
            "CDK's BucketDeployment handler (with its AWS CLI layer): aws-cdk-lib picks and tests its runtime "
            "together with its code, and moves it with a CDK upgrade. It runs only during a deployment.",
        )
        suppress(
            handler,
            ["Serverless-LambdaDLQ"],
            "A CloudFormation custom resource handler: CloudFormation waits for its answer and rolls the "
            "deployment back when the copy fails; a dead letter of a deployment event would hold nothing to replay.",
        )
        suppress(
            handler,
            ["Serverless-LambdaTracing"],
            "Copies the built files at deployment time, on no request's path: there is no request to trace, and "
            "its log group (30 days) has what each run did.",
        )

    def _suppress_distribution_findings(self) -> None:
        suppress(
            self.distribution,
            ["AwsSolutions-CFR1"],
            "No geo restriction: the customers are in Brazil, but a customer abroad (or a dealership's staff "
            "travelling) must still reach the storefront; the API and Cognito decide who may do what.",
        )
        suppress(
            self.distribution,
            ["AwsSolutions-CFR2"],
            "No WAF web ACL in front of the static files: a showroom deployment serves public, cacheable build "
            "output, and a web ACL costs more than the whole site (5 USD a month plus rules and requests). The API "
            "has its own throttling; attach a web ACL (web_acl_id) when the deployment faces real traffic.",
        )
        suppress(
            self.distribution,
            ["AwsSolutions-CFR4"],
            "The showroom deployment uses CloudFront's default *.cloudfront.net certificate, for which CloudFront "
            "fixes the minimum viewer protocol at TLSv1 whatever the distribution says. A custom domain with its "
            "ACM certificate (us-east-1) and minimum_protocol_version TLSv1.2_2021 lifts it.",
        )


def _deployment_handler(stack: Stack) -> IConstruct:
    """The one function CDK makes per stack (and memory size) for its BucketDeployments."""
    [handler] = [
        child
        for child in stack.node.children
        if child.node.id.startswith("Custom::CDKBucketDeployment")
        and child.node.id.endswith(f"{DEPLOYMENT_MEMORY_MB}MiB")
    ]
    return handler
