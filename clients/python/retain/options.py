"""Per-call options, shared by the sync and asyncio clients and the generated stubs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Optional, TypedDict

if TYPE_CHECKING:
    from .retry import RetryPolicy

__all__ = ["CallOptions"]


class CallOptions(TypedDict, total=False):
    """Keyword options accepted by every call (`Connection.unary`, the stubs' methods, ...).

    Keys:
        timeout: the call's deadline in seconds from now, for all its attempts together; sent
            as `CallHeader.timeout_us` (what is left of it on each attempt) and enforced locally
            too. None: the connection's `default_timeout` (None there: no deadline).
        authorization: the credential (`ApiKey ...` or `Bearer ...`, see `retain.credentials`);
            None: the connection's. "" sends none.
        trace_id: `CallHeader.trace_id`.
        idempotency_key: `CallHeader.idempotency_key`; also makes the call retryable after an
            UNAVAILABLE whose fate is unknown.
        metadata: `CallHeader.metadata`, lower-case keys.
        idempotent: the caller vouches that running the call twice does no harm (a read, or a
            write whose body carries its own client-chosen key), so it is retried after any
            UNAVAILABLE, not only a `not_processed` one.
        compress: zstd-compress the request message: True, False, or None (default) to compress
            messages of at least 64 KiB when `zstandard` is installed.
        retry: this call's retry policy instead of the connection's.
    """

    timeout: Optional[float]
    authorization: Optional[str]
    trace_id: str
    idempotency_key: str
    metadata: Mapping[str, str]
    idempotent: bool
    compress: Optional[bool]
    retry: Optional["RetryPolicy"]
