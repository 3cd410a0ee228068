"""Where invoice documents live: an S3 bucket, read by the customer through short-lived presigned links."""

from __future__ import annotations

from typing import Any


class S3InvoiceArchive:
    def __init__(self, bucket: str, link_seconds: int, client: Any | None = None) -> None:
        self._bucket = bucket
        self._link_seconds = link_seconds
        self._client = client

    def _s3(self) -> Any:
        if self._client is None:
            # Imported on first use: the API only needs it when someone asks for an invoice.
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def store(self, key: str, document: str) -> None:
        self._s3().put_object(
            Bucket=self._bucket, Key=key, Body=document.encode(), ContentType="text/html; charset=utf-8"
        )

    def link(self, key: str) -> str:
        """A link that opens the document for `link_seconds`, signed with this function's own credentials."""
        url: str = self._s3().generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=self._link_seconds
        )
        return url


class MemoryInvoiceArchive:
    """The archive in memory: for tests and benchmarks that leave AWS out."""

    def __init__(self) -> None:
        self.documents: dict[str, str] = {}

    def store(self, key: str, document: str) -> None:
        self.documents[key] = document

    def link(self, key: str) -> str:
        return f"memory://invoices/{key}"
