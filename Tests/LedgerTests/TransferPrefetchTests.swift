@testable import LedgerCore
import RetainProto
import Testing

/// A batch loads ahead what its transfers will read (``TransferPrefetch``); the loading must
/// never change what the batch decides, including when earlier transfers of the batch open,
/// close (a refused one's self-opened account) or fund the accounts later ones use.
@Suite("batches loaded ahead decide as transfers one call each")
struct TransferPrefetchTests {
    /// A mixed batch, the same for the same seed: known, self-opening and never-opened accounts,
    /// expiring credits, refusals, repeats of earlier ids, linked chains.
    static func mixedBatch(seed: UInt64, count: Int) -> [Retain_V1_Transfer] {
        var random = seed
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((random >> 33) % UInt64(bound))
        }
        let users = (0..<12).map { "user:u\($0):points" } + (0..<4).map { "user:new\($0):points" }
        var batch: [Retain_V1_Transfer] = []
        for index in 0..<count {
            let from = users[next(users.count)]
            var to = users[next(users.count)]
            if next(10) == 0 { to = from }
            let id = next(12) == 0 && index > 0 ? batch[next(index)].transferId : "t\(index)"
            switch next(9) {
            case 0:
                batch.append(transfer(id, "budget:camp:points", to, Int64(1 + next(50)), expiresAtMs: 1_767_225_600_000 + 86_400_000))
            case 1:
                batch.append(transfer(id, from, "nowhere:x:points", 1))
            case 2:
                batch.append(transfer(id, from, to, 1_000_000))
            case 3:
                batch.append(transfer(id, from, to, Int64(1 + next(5)), linked: true))
            case 4:
                batch.append(transfer(id, from, "redemption:points", Int64(1 + next(5)), kind: .redemption))
            default:
                batch.append(transfer(id, from, to, Int64(1 + next(20))))
            }
        }
        if batch[count - 1].linked { batch[count - 1].linked = false }
        return batch
    }

    @Test("results, balances, lots and the journal agree with one transfer per call", arguments: [1, 2, 3, 4])
    func sameAsOneByOne(seed: UInt64) throws {
        let users = (0..<12).map { "u\($0)" }
        let batch = Self.mixedBatch(seed: seed, count: 240)
        #expect(batch.count >= TransferPrefetch.minimumBatch)
        var batched = fundedLedger(users: users, amount: 40)
        var single = fundedLedger(users: users, amount: 40)
        let results = batched.transfers(batch)
        // The reference: each chain (or lone transfer) in a call of its own, too short to prefetch.
        var reference: [Retain_V1_TransferResult] = []
        var start = 0
        while start < batch.count {
            var end = start
            while batch[end].linked, end < batch.count - 1 { end += 1 }
            let chain = Array(batch[start...end])
            #expect(chain.count < TransferPrefetch.minimumBatch)
            for var result in single.transfers(chain) {
                result.index += UInt32(start)
                reference.append(result)
            }
            start = end + 1
        }
        #expect(results.map(\.code) == reference.map(\.code))
        #expect(results.map(\.replayed) == reference.map(\.replayed))
        #expect(Set(results.map(\.code)).count >= 5, "the batch exercises several outcomes: \(Set(results.map(\.code)))")
        #expect(batched.state.journalLength == single.state.journalLength)
        for user in users + (0..<4).map({ "new\($0)" }) {
            #expect(batched.balance(user) == single.balance(user), "\(user)")
            #expect(batched.account("user:\(user):points") == single.account("user:\(user):points"), "\(user)")
        }
        batched.expectInvariants()
        let replayed = try batched.replayed()
        #expect(replayed.journalLength == batched.state.journalLength)
    }
}
