"""Status codes and the exceptions a call can raise (PROTOCOL.md §11, §12)."""

from __future__ import annotations

import enum
from typing import Mapping, Optional

__all__ = ["StatusCode", "RPCError", "ProtocolError", "NOT_PROCESSED"]

#: The well-known `CallStatus.details` key saying the server did not process the call.
NOT_PROCESSED = "not_processed"


class StatusCode(enum.IntEnum):
    """gRPC's status codes, as carried by `CallStatus.code` and `GoAway.code`."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @classmethod
    def from_wire(cls, code: int) -> "StatusCode":
        """The code for a number on the wire; numbers outside 0-16 are UNKNOWN (§18)."""
        try:
            return cls(code)
        except ValueError:
            return cls.UNKNOWN


class RPCError(Exception):
    """A call that ended without OK.

    Attributes:
        code: the status code.
        message: the human-readable message (the server's, or this client's when `local`).
        details: machine-readable details (`CallStatus.details`), e.g. ``field`` or
            ``not_processed``.
        local: True when this client decided the outcome (local deadline, cancellation, a
            connection that could not be opened or was lost), False when a STATUS frame from the
            server said so.
        attempts: how many times the call was sent (more than 1 after retries).
        wire_code: the number the server sent, which differs from `code` only for numbers
            outside 0-16.
    """

    def __init__(
        self,
        code: StatusCode,
        message: str = "",
        details: Optional[Mapping[str, str]] = None,
        *,
        local: bool = False,
        attempts: int = 1,
        wire_code: Optional[int] = None,
    ) -> None:
        super().__init__(code, message)
        self.code = StatusCode(code)
        self.message = message
        self.details: dict[str, str] = dict(details or {})
        self.local = local
        self.attempts = attempts
        self.wire_code = int(code) if wire_code is None else wire_code

    @property
    def not_processed(self) -> bool:
        """True when the call is known not to have been processed: safe to retry anywhere."""
        return self.details.get(NOT_PROCESSED) == "true"

    def __str__(self) -> str:
        origin = " (local)" if self.local else ""
        return f"{self.code.name}{origin}: {self.message}"

    def __repr__(self) -> str:
        return (f"RPCError(code={self.code.name}, message={self.message!r}, details={self.details!r}, "
                f"local={self.local}, attempts={self.attempts})")


class ProtocolError(Exception):
    """The peer's bytes break the protocol; the connection is closed (PROTOCOL.md §12)."""
