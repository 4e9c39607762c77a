@testable import LedgerCore
import PropertyBased
import RetainProto
import Testing

/// Random sequences of transfers, holds, posts, voids, retries, expiries and clock moves; after
/// every step the books balance per asset, no account that may not go negative is negative,
/// lots add up to balances, and every retry answers exactly what the first call did.
@Suite("ledger properties")
struct LedgerPropertyTests {
    static let users = ["u0", "u1", "u2", "u3"]

    struct Model {
        var ledger = LedgerHarness()
        var applied: [String: (Retain_V1_Transfer, UInt64)] = [:]
        var holds: [String] = []
        var appliedBatches: [[Retain_V1_Transfer]] = []
        var counter = 0

        init() {
            ledger.open("budget:camp:points", cap: 5_000)
            ledger.open("budget:camp:coupon.ship")
        }

        mutating func nextID(_ prefix: String) -> String {
            counter += 1
            return "\(prefix)\(counter)"
        }

        mutating func record(_ transfers: [Retain_V1_Transfer], _ results: [Retain_V1_TransferResult]) {
            #expect(results.count == transfers.count)
            for (transfer, result) in zip(transfers, results) where result.code == .ok {
                if let (first, sequence) = applied[transfer.transferId] {
                    #expect(result.replayed && result.sequence == sequence && first == transfer)
                } else {
                    #expect(!result.replayed)
                    applied[transfer.transferId] = (transfer, result.sequence)
                    if transfer.pending { holds.append(transfer.transferId) }
                }
            }
            if results.allSatisfy({ $0.code == .ok && !$0.replayed }) { appliedBatches.append(transfers) }
            // A linked chain applies whole or not at all.
            var start = 0
            while start < transfers.count {
                var end = start
                while end < transfers.count - 1, transfers[end].linked { end += 1 }
                let codes = Set(results[start...end].map { $0.code == .ok })
                #expect(codes.count == 1, "chain \(start)...\(end) applied in part: \(results[start...end].map(\.code))")
                start = end + 1
            }
        }

        mutating func step(_ value: UInt64) {
            var bits = value
            func take(_ n: UInt64) -> Int {
                let result = Int(bits % n)
                bits /= n
                return result
            }
            let user = Self.user(take(4))
            let other = Self.user(take(4))
            let asset = take(5) == 0 ? "coupon.ship" : "points"
            let amount = Int64(take(120) + 1)
            switch take(9) {
            case 0, 1:
                var batch: [Retain_V1_Transfer] = []
                for index in 0...take(3) {
                    let expires = take(2) == 0 ? ledger.now + Int64(take(10) + 1) * 3_600_000 : 0
                    batch.append(
                        transfer(
                            nextID("i"), "budget:camp:\(asset)", "user:\(Self.user(index + take(4))):\(asset)",
                            amount * Int64(index + 1), linked: take(2) == 0, expiresAtMs: expires))
                }
                record(batch, ledger.transfers(batch))
            case 2:
                let items = [transfer(nextID("r"), "user:\(user):\(asset)", "redemption:\(asset)", amount, kind: .redemption)]
                record(items, ledger.transfers(items))
            case 3:
                guard user != other else { return }
                let items = [
                    transfer(
                        nextID("m"), "user:\(user):\(asset)", "user:\(other):\(asset)", amount, kind: .adjustment,
                        linked: true),
                    transfer(nextID("m"), "user:\(other):\(asset)", "redemption:\(asset)", amount / 2 + 1, kind: .redemption),
                ]
                record(items, ledger.transfers(items))
            case 4:
                let items = [
                    transfer(
                        nextID("h"), "user:\(user):\(asset)", "redemption:\(asset)", amount, kind: .redemption,
                        pending: true, timeoutMs: take(2) == 0 ? Int64(take(5) + 1) * 3_600_000 : 0)
                ]
                record(items, ledger.transfers(items))
            case 5:
                guard !holds.isEmpty else { return }
                let hold = holds[take(UInt64(holds.count))]
                let outcome =
                    take(2) == 0
                    ? ledger.post(hold, id: nextID("p"), amount: Int64(take(3)) * amount / 2)
                    : ledger.void(hold, id: nextID("v"))
                if outcome.error == nil { #expect(outcome.hold?.state != .pending) }
            case 6:
                ledger.now += Int64(take(8)) * 1_800_000
                _ = ledger.sweepHolds()
                _ = ledger.expire(limit: UInt32(take(3) + 1))
            case 7:
                guard !appliedBatches.isEmpty else { return }
                let batch = appliedBatches[take(UInt64(appliedBatches.count))]
                let again = ledger.transfers(batch)
                for (transfer, result) in zip(batch, again) {
                    #expect(result.code == .ok && result.replayed && result.sequence == applied[transfer.transferId]?.1)
                }
                var changed = batch[take(UInt64(batch.count))]
                changed.amount += 1
                changed.linked = false
                #expect(ledger.transfer(changed).code == .existsWithDifferentBody)
            default:
                let request = Retain_V1_PenalizeRequest(
                    userId: user, transferId: nextID("pen"),
                    amount: .init(value: amount, asset: asset), reason: "abuse",
                    actor: "risk", allowPartial: take(2) == 0)
                _ = ledger.apply(.init(kind: .penalize, penalize: request))
            }
        }

        static func user(_ index: Int) -> String { users[index % users.count] }
    }

    @Test("random operation sequences keep every invariant, and replay rebuilds the same ledger")
    func randomSequences() async throws {
        await propertyCheck(count: 200, input: Gen<UInt64>.value(in: 0...UInt64.max).array(of: 1...60)) { steps in
            var model = Model()
            for value in steps {
                model.step(value)
                let problems = model.ledger.state.invariantViolations()
                #expect(problems.isEmpty, "\(problems)")
                #expect(model.ledger.state.audit(.init(), at: model.ledger.now).balanced)
                if !problems.isEmpty { return }
            }
            let replayed = try model.ledger.replayed()
            #expect(replayed.chainHead == model.ledger.state.chainHead)
            #expect(replayed.invariantViolations().isEmpty)
            #expect(model.ledger.state.verifyChain().verified)
            for user in Self.users {
                #expect(
                    replayed.balances(.init(userId: user, includeLots: true), now: model.ledger.now)
                        == model.ledger.state.balances(.init(userId: user, includeLots: true), now: model.ledger.now))
            }
        }
    }
}
