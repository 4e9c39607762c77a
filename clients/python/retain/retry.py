"""When a failed call may be sent again, and how long to wait first.

The rule is the protocol's (PROTOCOL.md §11, §12, §14; the gateway applies the same one,
docs/GATEWAY.md "Retries"). A call is retried only when a second execution cannot do harm:

* it failed with ``UNAVAILABLE`` and ``details["not_processed"] == "true"``: the server
  guarantees it did not process the call (it was draining, or the call's id was above a
  GOAWAY's ``last_request_id``), or the connection could not even be opened. Safe for any call;
* or it failed with ``UNAVAILABLE`` (fate unknown: the connection broke, the server said so)
  and the caller declared it idempotent: it carries an idempotency key in its call header, or
  the caller passed ``idempotent=True`` (reads, and writes whose body holds a client-chosen key
  such as a ledger ``transfer_id``; see common.proto "Writes are safe to retry").

Every other status is the server's answer and is returned unchanged. A deadline is never
extended by retries: each attempt gets what is left of the caller's deadline (§9).
A server-streaming call is retried only before its first answer has arrived.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from .errors import RPCError, StatusCode

__all__ = ["RetryPolicy", "RetryEvent", "RetryCallback", "DEFAULT_RETRY", "NO_RETRY", "is_retryable"]


def is_retryable(error: RPCError, *, idempotent: bool) -> bool:
    """Whether the documented rule allows sending the call that failed with `error` again."""
    if error.code != StatusCode.UNAVAILABLE:
        return False
    return error.not_processed or idempotent


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a call gets and the pause between them (exponential backoff with
    jitter). The rule for *whether* to retry is fixed: `is_retryable`."""

    #: Attempts in all, the first included; 1 disables retries.
    max_attempts: int = 3
    #: Pause before the first retry, seconds.
    initial_backoff: float = 0.05
    #: Largest pause, seconds.
    max_backoff: float = 1.0
    #: Each pause is this many times the previous one.
    multiplier: float = 2.0
    #: Random spread of each pause, as a fraction of it (0.2 = ±20 %).
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1 or not 0 <= self.jitter <= 1:
            raise ValueError("invalid backoff settings")

    def backoff(self, retry: int) -> float:
        """The pause before retry number `retry` (1 for the first retry), seconds."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, retry - 1))
        spread = base * self.jitter
        return max(0.0, base + random.uniform(-spread, spread))

    def should_retry(self, error: RPCError, attempt: int, *, idempotent: bool) -> bool:
        """Whether attempt number `attempt`, which failed with `error`, is followed by another."""
        return attempt < self.max_attempts and is_retryable(error, idempotent=idempotent)


@dataclass(frozen=True)
class RetryEvent:
    """Passed to an ``on_retry`` callback before each retry."""

    method: str
    #: The attempt that failed (1 for the first).
    attempt: int
    error: RPCError
    #: The pause before the next attempt, seconds.
    delay: float


#: Callback type for retry notifications (logging, metrics, tests).
RetryCallback = Callable[[RetryEvent], None]

#: The default: 3 attempts, 50 ms doubling pauses (as the gateway does).
DEFAULT_RETRY = RetryPolicy()
#: Never retry.
NO_RETRY = RetryPolicy(max_attempts=1)
