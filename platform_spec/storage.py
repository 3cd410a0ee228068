"""The table's default name and the buckets (the table's keys, indexes and stream: persistence/schema.py)."""

from __future__ import annotations

from platform_spec.messaging import PREFIX

# The local stack's table; on AWS the CDK names it and passes TABLE_NAME to the functions.
TABLE_NAME = PREFIX
INVOICES_BUCKET = f"{PREFIX}-invoices"
INTAKE_BUCKET = f"{PREFIX}-intake"
BUCKETS = (INVOICES_BUCKET, INTAKE_BUCKET)
# The intake bucket tells the intake-files queue about new objects with this suffix (reports end in it too; the
# reader passes over them).
INTAKE_FILE_SUFFIX = ".json"
