"""The CDK app: one stack, `VehiclePlatform`, checked by cdk-nag's AWS Solutions and Serverless packs.

`make synth` runs this file directly (no CDK CLI, no AWS access) and writes the templates to infra/cdk/cdk.out/.
To deploy, run the CDK CLI pinned in package.json from this folder with the project's virtualenv active, so that
cdk.json's `python3 app.py` finds aws-cdk-lib and the project's packages:

    source ../../.venv/bin/activate && npm ci && npx cdk deploy -c pixApiUrl=https://<PSP>/api/v2 \\
        -c pixTokenUrl=https://<PSP>/oauth/token -c pixKey=<Pix key> -c sesSender=vendas@your-dealership.com.br ...

(stack.py lists the context values.) The account and region are the CLI's (CDK_DEFAULT_ACCOUNT/REGION); without
them, as offline, the template is environment-agnostic.
"""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk

from vehicle_platform_infra.stack import STACK_NAME, VehiclePlatformStack, add_nag_checks, cdk_json_context

# The CLI says where to write (CDK_OUTDIR); run directly, the app writes where `make synth` promises.
OUTDIR = None if os.environ.get("CDK_OUTDIR") else str(Path(__file__).resolve().parent / "cdk.out")

app = cdk.App(context=cdk_json_context(), outdir=OUTDIR)
VehiclePlatformStack(
    app,
    STACK_NAME,
    env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
)
add_nag_checks(app)
app.synth()
