@testable import LedgerCore
import RetainProto
import Testing

@Suite("balances of many users, now and as of a time")
struct BatchBalanceTests {
    @Test("GetBalances answers in order, 0 without the account, and the posted balance as of a past time")
    func balances() {
        var ledger = fundedLedger(users: ["alice", "bob"], amount: 100)
        let funded = ledger.state.lastAtMs
        ledger.now += LedgerHarness.day
        #expect(ledger.transfer(transfer("more-alice", "budget:camp:points", "user:alice:points", 50)).code == .ok)
        // A hold lowers the available balance now, not the posted one.
        #expect(
            ledger.transfer(transfer("hold-bob", "user:bob:points", "redemption:points", 30, kind: .redemption, pending: true)).code == .ok)
        let now = ledger.state.balances(of: ["bob", "carol", "alice"], asset: "points", asOf: nil, now: ledger.now)
        #expect(now.balances.map(\.userId) == ["bob", "carol", "alice"])
        #expect(now.balances.map(\.balance) == [100, 0, 150])
        #expect(now.balances.map(\.available) == [70, 0, 150])
        // As of the funding: alice's later credit is not counted; the later hold neither.
        let then = ledger.state.balances(of: ["alice", "bob"], asset: "points", asOf: funded, now: ledger.now)
        #expect(then.balances.map(\.balance) == [100, 100] && then.balances.map(\.available) == [100, 100])
        #expect(then.asOfMs == funded)
        let before = ledger.state.balances(of: ["alice"], asset: "points", asOf: funded - 1, now: ledger.now)
        #expect(before.balances.first?.balance == 0)
        // Another asset: nobody holds it.
        #expect(ledger.state.balances(of: ["alice"], asset: "coins", asOf: nil, now: ledger.now).balances.first?.available == 0)
    }
}
