"""Base classes of the typed service clients, and the method registry.

The clients themselves are generated from the .proto service definitions into
`retain._generated.services` by `clients/python/generate.py`, and exported from `retain`:

    ledger = retain.LedgerClient(connection)            # connection: retain.Connection
    answer = ledger.create_transfers(CreateTransfersRequest(...), timeout=2.0)

    ledger = retain.AsyncLedgerClient(async_connection)  # retain.AsyncConnection
    answer = await ledger.create_transfers(...)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, NamedTuple, Type

from google.protobuf.message import Message

if TYPE_CHECKING:
    from .connection import AsyncConnection
    from .sync import Connection

__all__ = ["MethodInfo", "ServiceClient", "AsyncServiceClient"]


class MethodInfo(NamedTuple):
    """What the contract declares about one method."""

    #: Wire path, `retain.v1.<Service>/<Method>`.
    path: str
    request_type: Type[Message]
    response_type: Type[Message]
    server_streaming: bool


class ServiceClient:
    """Base of the generated sync clients: calls go through a `retain.Connection`."""

    #: Full service name, e.g. `retain.v1.Ledger`.
    SERVICE: ClassVar[str] = ""

    def __init__(self, connection: "Connection") -> None:
        self._connection = connection

    @property
    def connection(self) -> "Connection":
        return self._connection


class AsyncServiceClient:
    """Base of the generated asyncio clients: calls go through a `retain.AsyncConnection`."""

    #: Full service name, e.g. `retain.v1.Ledger`.
    SERVICE: ClassVar[str] = ""

    def __init__(self, connection: "AsyncConnection") -> None:
        self._connection = connection

    @property
    def connection(self) -> "AsyncConnection":
        return self._connection

