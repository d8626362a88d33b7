"""The framing between the web process and a query worker: small, explicit, no pickle.

Every message is a 4-byte big-endian length followed by that many bytes. A request is one JSON
array; a reply is a JSON header line, a newline, then the raw result body (the serialized SPARQL
result, passed through untouched). An error reply names the class of :mod:`clair_kg.errors` it
was, so it crosses the boundary as a typed error, not a bare status.
"""

from __future__ import annotations

__all__ = ["Job", "Reply", "decode_job", "decode_reply", "encode_job", "encode_reply", "frame"]

import json
import struct
from dataclasses import dataclass

from ..errors import ClairKgError, error_named
from ..store.base import DatasetSpec

HEADER = struct.Struct(">I")


@dataclass(frozen=True)
class Job:
    """One query for a worker: text, dataset, media type and row cap."""

    query: str
    media_type: str
    dataset: DatasetSpec
    max_rows: int
    #: the base IRI relative IRIs in the query resolve against
    base_iri: str | None = None


@dataclass(frozen=True)
class Reply:
    """A worker's answer: a result body, or an error (its status, class name and message)."""

    status: int  # 200, or the HTTP status of the error
    form: str = ""
    truncated: bool = False
    message: str = ""
    body: bytes = b""
    #: the name of the error's class in clair_kg.errors ("" for a result)
    error: str = ""

    @classmethod
    def from_error(cls, exc: ClairKgError) -> Reply:
        return cls(exc.status, message=exc.message, error=type(exc).__name__)

    def raise_error(self) -> None:
        """Raise the error this reply carries (nothing for a result)."""
        if self.status != 200:
            raise error_named(self.error, self.message)


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def encode_job(job: Job) -> bytes:
    return json.dumps(
        [job.query, job.media_type, list(job.dataset.default_graphs), list(job.dataset.named_graphs),
         job.max_rows, job.base_iri],
        ensure_ascii=False,
    ).encode("utf-8")


def decode_job(payload: bytes) -> Job:
    query, media_type, default_graphs, named_graphs, max_rows, base_iri = json.loads(payload)
    return Job(str(query), str(media_type), DatasetSpec(tuple(default_graphs), tuple(named_graphs)),
               int(max_rows), base_iri)


def encode_reply(reply: Reply) -> bytes:
    head = json.dumps([reply.status, reply.form, reply.truncated, reply.message, reply.error], ensure_ascii=False)
    return head.encode("utf-8") + b"\n" + reply.body


def decode_reply(payload: bytes) -> Reply:
    head, _, body = payload.partition(b"\n")
    status, form, truncated, message, error = json.loads(head)
    return Reply(int(status), str(form), bool(truncated), str(message), body, str(error))
