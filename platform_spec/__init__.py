"""What the platform is made of, declared once: the resources both the local stack (local_stack/resources.py) and the
CDK app (infra/cdk) are built from, and the constants the handlers share with them.

Plain Python with no third-party import and nothing provisioned: the Lambda functions import it too (the SES sender,
the routes), so it costs their cold start nothing. The table's keys, indexes and stream are persistence's own format
(persistence/schema.py); its default name is here.
"""
