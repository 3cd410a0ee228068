"""The web app's trusted documents: every operation it sends, extracted at build time, served by id.

`web/` generates the manifest (GraphQL Code Generator's persisted documents: `sha256:<hex>` -> text) and `npm run
codegen` publishes it here, beside this module, so that the Lambda asset carries it. A request names a document by
`documentId` (GraphQL over HTTP's persisted documents) or by APQ's `extensions.persistedQuery.sha256Hash`: its text
is looked up, parsed once per process and never validated again (it was, with the schema, when the app was built;
tests/api/test_trusted_documents.py checks every one against the limits). With `TRUSTED_DOCUMENTS_ONLY` (on in the
CDK app) any other document is refused, except the staff's: the back office's API explorer sends its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import DocumentNode, parse

from domain.errors import DomainError, ValidationFailed

MANIFEST = Path(__file__).with_name("trusted_documents.json")
_HEX = re.compile(r"[0-9a-f]{64}")


class UnknownDocument(DomainError):
    """A document id this API does not hold (APQ clients resend the text on this message)."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class UntrustedDocument(DomainError):
    """Full text that is not one of the app's documents, where only those are served."""

    code = "TRUSTED_DOCUMENTS_ONLY"

    def __init__(self) -> None:
        super().__init__("this API serves the web app's trusted documents only: send a documentId")


def document_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class TrustedDocuments:
    def __init__(self, manifest: Mapping[str, str]) -> None:
        for key, text in manifest.items():
            if key != document_id(text):
                raise ValueError(f"trusted document {key} does not hold the text it is the hash of")
        self._texts = dict(manifest)
        self._parsed: dict[str, DocumentNode] = {}

    @classmethod
    def load(cls, path: Path = MANIFEST) -> TrustedDocuments:
        return cls(json.loads(path.read_text()))

    def __len__(self) -> int:
        return len(self._texts)

    def text(self, key: str) -> str:
        try:
            return self._texts[key]
        except KeyError:
            raise UnknownDocument from None

    def document(self, key: str) -> DocumentNode:
        """Parsed on first use, then kept: the parser cache's LRU may evict texts, never these."""
        if (parsed := self._parsed.get(key)) is None:
            parsed = self._parsed[key] = parse(self.text(key))
        return parsed

    def holds(self, text: str) -> bool:
        return document_id(text) in self._texts

    def resolve(
        self, query: str | None, key: str | None, *, trusted_only: bool, is_staff: Callable[[], bool]
    ) -> tuple[str, DocumentNode | None]:
        """The text a request runs and, for a trusted document, its parsed form. A request (HTTP or subscribe)
        names a document by id, or sends text, or both (APQ: the id first, the text when the id was unknown)."""
        if key is not None:
            try:
                return self.text(key), self.document(key)
            except UnknownDocument:
                if query is None:
                    raise
        if query is None:
            raise ValidationFailed("query", "the request has no query")
        if trusted_only and not self.holds(query) and not is_staff():
            raise UntrustedDocument
        return query, None


@lru_cache(maxsize=1)
def trusted_documents() -> TrustedDocuments:
    """The process's manifest, read once per cold start."""
    return TrustedDocuments.load()


def requested_id(payload: Mapping[str, Any]) -> str | None:
    """The document id a request (an HTTP body, a subscribe payload) names, if any, as `sha256:<hex>`."""
    named = payload.get("documentId")
    if named is not None:
        if not isinstance(named, str) or not named.startswith("sha256:") or not _HEX.fullmatch(named[7:]):
            raise ValidationFailed("documentId", "documentId must be sha256:<64 hex digits>")
        return named
    extensions = payload.get("extensions")
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        raise ValidationFailed("extensions", "extensions must be a JSON object")
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(digest, str) or not _HEX.fullmatch(digest):
        raise ValidationFailed("extensions.persistedQuery.sha256Hash", "sha256Hash must be 64 hex digits")
    return f"sha256:{digest}"
