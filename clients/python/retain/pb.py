"""The protobuf message modules of proto/retain/v1 (generated), for example::

    from retain.pb import echo_pb2, ledger_pb2

    request = ledger_pb2.CreateTransfersRequest(transfers=[...])
"""

from ._generated import *  # noqa: F401,F403
from ._generated import __all__ as __all__  # noqa: F401
