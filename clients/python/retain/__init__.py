"""Client for Retain's native RPC protocol (docs/PROTOCOL.md).

    import retain
    from retain.pb import echo_pb2

    with retain.Connection("127.0.0.1", 7000, authorization=retain.api_key(KEY)) as conn:
        print(retain.EchoClient(conn).echo(echo_pb2.EchoRequest(text="hi"), timeout=2.0).text)

* `Connection` (threads) and `AsyncConnection` (asyncio): one TCP connection multiplexing every
  call, reconnecting after a drain or loss; deadlines, cancellation, retries by the protocol's
  rule (`retain.retry`), TLS, credentials (`retain.credentials`), optional zstd.
* `<Service>Client` / `Async<Service>Client`: typed stubs generated from the .proto files.
* `RPCError`: how a call that did not end with OK is reported (code, message, details).
"""

from . import pb
from ._generated import services as _services
from ._generated.services import *  # noqa: F401,F403  (typed service clients)
from .connection import AsyncConnection, AsyncResponseStream
from .credentials import api_key, bearer, mint_service_token
from .errors import ProtocolError, RPCError, StatusCode
from .options import CallOptions
from .retry import DEFAULT_RETRY, NO_RETRY, RetryEvent, RetryPolicy, is_retryable
from .stubs import AsyncServiceClient, MethodInfo, ServiceClient
from .sync import Call, Connection, ResponseStream, connect

__version__ = "0.1.0"

__all__ = [
    "Connection", "AsyncConnection", "connect", "Call", "ResponseStream", "AsyncResponseStream",
    "RPCError", "StatusCode", "ProtocolError",
    "RetryPolicy", "RetryEvent", "DEFAULT_RETRY", "NO_RETRY", "is_retryable",
    "CallOptions", "api_key", "bearer", "mint_service_token",
    "ServiceClient", "AsyncServiceClient", "MethodInfo", "pb",
]
__all__ += _services.__all__
