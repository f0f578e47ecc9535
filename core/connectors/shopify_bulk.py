"""Shopify's bulk operations: a query whose whole answer Shopify writes to a JSONL file, and a
mutation Shopify runs once per line of a JSONL file uploaded to it.

Both are a handful of requests whatever their size: start the operation, ask how it is going until
it is done, fetch one file. The file is written to disk as it arrives and read back a line at a
time, so a million-variant catalog is never held in memory. Before API 2026-01 Shopify runs one
bulk query and one bulk mutation at a time per app and shop; a run that finds its kind busy (a
previous run cut short leaves its operation running) waits for that one to end and starts again.

Files are fetched from and sent to the addresses Shopify gives (its cloud storage), with a client
that carries no access token: the token is for the shop's own API only.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import httpx

from core.connectors.base import ConnectorError, RequestCounter, reading
from core.connectors.http import check_url
from core.i18n import _

RUN_QUERY = """
mutation TandemBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

# From 2026-01 Shopify no longer groups a child's line after its parent's unless asked.
RUN_QUERY_2026 = """
mutation TandemBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

STAGE_UPLOAD = """
mutation TandemStageUpload($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
"""

RUN_MUTATION = """
mutation TandemBulkMutation($mutation: String!, $stagedUploadPath: String!) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""

BULK_STATUS = """
query TandemBulkStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode objectCount url partialDataUrl }
  }
}
"""

CURRENT_BULK = """
query TandemCurrentBulk($type: BulkOperationType!) {
  currentBulkOperation(type: $type) { id status }
}
"""

DOCUMENTS = {"bulk_query": RUN_QUERY, "stage_upload": STAGE_UPLOAD, "bulk_mutation": RUN_MUTATION,
             "bulk_status": BULK_STATUS, "current_bulk": CURRENT_BULK}
DOCUMENTS_2026 = {**DOCUMENTS, "bulk_query": RUN_QUERY_2026}

FIRST_POLL_SECONDS = 0.2
LONGEST_POLL_SECONDS = 10.0
MOST_POLLS = 5_000  # with the longest pause, over half a day: an operation still running by then is stuck
DOWNLOAD_CHUNK = 1 << 16
UNFINISHED = ("CREATED", "RUNNING", "CANCELING")


@dataclass
class BulkFile:
    """A bulk operation's result on disk; `complete` is False for the partial file of a failed one."""

    path: Path | None
    complete: bool
    error_code: str | None = None

    def lines(self) -> Iterator[dict]:
        if self.path is None:
            return
        with open(self.path, encoding="utf-8") as file:
            for number, line in enumerate(file):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        raise ConnectorError(_("line {number} of the store's bulk result is not JSON").format(
                            number=number + 1)) from None

    def remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class BulkOperations:
    """Runs bulk queries and mutations through the connector's own GraphQL call (so every request
    is paced and counted) and moves their files with a token-free client."""

    def __init__(self, graphql: Callable[[str, dict], dict], counter: RequestCounter, sleep,
                 transport: httpx.BaseTransport | None = None):
        self._graphql = graphql
        self.counter = counter
        self._sleep = sleep
        self._files = httpx.Client(transport=transport, timeout=120.0, follow_redirects=False)

    def close(self) -> None:
        self._files.close()

    def query(self, document: str) -> BulkFile:
        """Run `document` as a bulk query and return its result file."""
        return self._finish(self._start("bulk_query", {"query": document}, "QUERY"))

    def mutation(self, mutation: str, lines: Iterable[dict]) -> BulkFile:
        """Upload one JSON object of variables per line, run `mutation` over them, and return the
        result file (one line per input line, with its `__lineNumber`)."""
        staged = self._graphql("stage_upload", {"input": [{
            "resource": "BULK_MUTATION_VARIABLES", "filename": "tandem.jsonl", "mimeType": "text/jsonl",
            "httpMethod": "POST"}]})
        with reading("stage_upload"):
            result = staged["stagedUploadsCreate"]
            if result["userErrors"]:
                raise ConnectorError(_("the store refused the upload: {value}").format(
                    value=result["userErrors"][0]["message"]))
            target = result["stagedTargets"][0]
            parameters = {item["name"]: item["value"] for item in target["parameters"]}
            path = parameters["key"]
        with tempfile.TemporaryFile() as upload:
            for line in lines:
                upload.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
            upload.seek(0)
            self.counter.count("bulk_upload")
            try:
                answer = self._files.post(check_url(target["url"]), data=parameters,
                                          files={"file": ("tandem.jsonl", upload, "text/jsonl")})
            except httpx.TransportError as exc:
                raise ConnectorError(_("could not send the file to the store ({name__})").format(
                    name__=type(exc).__name__)) from None
        if answer.status_code >= 300:
            raise ConnectorError(_("the store's file storage refused the upload (HTTP {status_code})").format(
                status_code=answer.status_code))
        return self._finish(self._start("bulk_mutation", {"mutation": mutation, "stagedUploadPath": path},
                                        "MUTATION"))

    def _start(self, kind: str, variables: dict, operation_type: str) -> str:
        field = "bulkOperationRunQuery" if kind == "bulk_query" else "bulkOperationRunMutation"
        for attempt in range(2):
            data = self._graphql(kind, variables)
            with reading(kind):
                result = data[field]
                errors = result["userErrors"]
                if not errors:
                    return result["bulkOperation"]["id"]
                message = errors[0]["message"]
            if attempt == 0 and "progress" in message.lower():
                self._wait_for_current(operation_type)
                continue
            raise ConnectorError(_("the store refused the bulk operation: {value}").format(value=message))
        raise ConnectorError(_("the store kept another bulk operation running; try again later"))

    def _wait_for_current(self, operation_type: str) -> None:
        """Another bulk operation of this kind holds the shop's one slot: wait for it to end."""
        pause = FIRST_POLL_SECONDS
        for _poll in range(MOST_POLLS):
            data = self._graphql("current_bulk", {"type": operation_type})
            with reading("current_bulk"):
                current = data["currentBulkOperation"]
                if current is None or current["status"] not in UNFINISHED:
                    return
            self._pause(pause)
            pause = min(pause * 2, LONGEST_POLL_SECONDS)
        raise ConnectorError(_("the store kept another bulk operation running; try again later"))

    def _pause(self, seconds: float) -> None:
        self.counter.waited_seconds += seconds
        self._sleep(seconds)

    def _finish(self, operation_id: str) -> BulkFile:
        pause = FIRST_POLL_SECONDS
        for _poll in range(MOST_POLLS):
            data = self._graphql("bulk_status", {"id": operation_id})
            with reading("bulk_status"):
                operation = data["node"]
                if operation is None:
                    raise ConnectorError(_("the store no longer knows its bulk operation"))
                status = operation["status"]
            if status in UNFINISHED:
                self._pause(pause)
                pause = min(pause * 2, LONGEST_POLL_SECONDS)
                continue
            if status == "COMPLETED":
                # No result file at all means the query found nothing.
                return BulkFile(self._download(operation["url"]) if operation.get("url") else None, True)
            if status == "FAILED" and operation.get("partialDataUrl"):
                return BulkFile(self._download(operation["partialDataUrl"]), False, operation.get("errorCode"))
            if status == "FAILED":
                raise ConnectorError(_("the store's bulk operation failed ({code}); nothing from it was used").format(
                    code=operation.get("errorCode") or "?"))
            if status == "EXPIRED":
                raise ConnectorError(_("the store's bulk operation expired; nothing from it was used"))
            raise ConnectorError(_("the store's bulk operation was cancelled; nothing from it was used"))
        raise ConnectorError(_("the store's bulk operation did not finish in time; try again later"))

    def _download(self, url: str) -> Path:
        self.counter.count("bulk_file")
        handle, name = tempfile.mkstemp(prefix="tandem-bulk-", suffix=".jsonl")
        path = Path(name)
        try:
            with os.fdopen(handle, "wb") as file, self._files.stream("GET", check_url(url)) as answer:
                if answer.status_code in (403, 404, 410):
                    raise ConnectorError(_("the store's result file is no longer there (it expires); run again"))
                if answer.status_code >= 300:
                    raise ConnectorError(_("the store's file storage answered HTTP {status_code}").format(
                        status_code=answer.status_code))
                for chunk in answer.iter_bytes(DOWNLOAD_CHUNK):
                    file.write(chunk)
        except httpx.TransportError as exc:
            path.unlink(missing_ok=True)
            raise ConnectorError(_("the store's result file could not be fetched ({name__})").format(
                name__=type(exc).__name__)) from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
