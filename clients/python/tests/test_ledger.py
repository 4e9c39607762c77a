"""A real Ledger, through the typed stubs: open a budget, pay a user, look the transfer up."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from servers import ServerProcess

import retain
from retain import RPCError, StatusCode
from retain.pb import ledger_pb2 as pb


def admin_token(secret: str) -> str:
    return retain.bearer(retain.mint_service_token(secret, ["admin"], subject="ledger-tests"))


def test_open_account_transfer_and_lookup(ledger_server: ServerProcess, service_secret: str) -> None:
    campaign = f"spring-{uuid.uuid4().hex[:8]}"
    user = f"alice-{uuid.uuid4().hex[:8]}"
    budget = f"budget:{campaign}:points"
    transfer_id = f"welcome:{user}"
    with retain.Connection(ledger_server.host, ledger_server.port, authorization=admin_token(service_secret),
                           default_timeout=10.0) as conn:
        ledger = retain.LedgerClient(conn)

        opened = ledger.open_account(pb.OpenAccountRequest(account_id=budget, capped=True, cap=1_000))
        assert opened.created and opened.account.kind == pb.ACCOUNT_KIND_BUDGET and opened.account.cap == 1_000
        again = ledger.open_account(pb.OpenAccountRequest(account_id=budget, capped=True, cap=1_000))
        assert not again.created  # idempotent by account id and body

        transfer = pb.Transfer(transfer_id=transfer_id, debit_account_id=budget,
                               credit_account_id=f"user:{user}:points", amount=250, asset="points",
                               kind=pb.TRANSFER_KIND_WELCOME_BONUS, reason="welcome")
        created = ledger.create_transfers(pb.CreateTransfersRequest(transfers=[transfer]), idempotent=True)
        [result] = created.results
        assert result.code == pb.TRANSFER_RESULT_CODE_OK and not result.replayed and result.sequence > 0

        found = ledger.lookup_transfers(pb.LookupTransfersRequest(transfer_ids=[transfer_id, "no-such-transfer"]))
        [record] = found.transfers
        assert record.state == pb.TRANSFER_STATE_POSTED and record.sequence == result.sequence
        assert (record.transfer.amount, record.transfer.credit_account_id) == (250, f"user:{user}:points")
        assert list(found.missing_ids) == ["no-such-transfer"]

        # The same transfer again is a replay: the first result, nothing paid twice.
        replay = ledger.create_transfers(pb.CreateTransfersRequest(transfers=[transfer]))
        assert replay.results[0].replayed and replay.results[0].sequence == result.sequence
        [balance] = ledger.get_balance(pb.GetBalanceRequest(user_id=user)).balances
        assert (balance.asset, balance.balance, balance.available) == ("points", 250, 250)

        # Beyond the cap: a per-transfer result, not a call error.
        too_much = pb.Transfer(transfer_id=f"big:{user}", debit_account_id=budget,
                               credit_account_id=f"user:{user}:points", amount=5_000, asset="points",
                               kind=pb.TRANSFER_KIND_ISSUE)
        refused = ledger.create_transfers(pb.CreateTransfersRequest(transfers=[too_much]))
        assert refused.results[0].code == pb.TRANSFER_RESULT_CODE_BUDGET_EXCEEDED

        with pytest.raises(RPCError) as invalid:
            ledger.create_transfers(pb.CreateTransfersRequest())
        assert invalid.value.code == StatusCode.INVALID_ARGUMENT


def test_ledger_scopes_and_async_stub(ledger_server: ServerProcess, service_secret: str) -> None:
    reader = retain.bearer(retain.mint_service_token(service_secret, ["ledger:read"]))

    async def main() -> None:
        async with retain.AsyncConnection(ledger_server.host, ledger_server.port, authorization=reader) as conn:
            ledger = retain.AsyncLedgerClient(conn)
            empty = await ledger.get_balance(pb.GetBalanceRequest(user_id=f"nobody-{uuid.uuid4().hex[:8]}"))
            assert list(empty.balances) == []
            with pytest.raises(RPCError) as denied:  # OpenAccount needs admin
                await ledger.open_account(pb.OpenAccountRequest(account_id="budget:x:points"))
            assert denied.value.code == StatusCode.PERMISSION_DENIED

    asyncio.run(main())
