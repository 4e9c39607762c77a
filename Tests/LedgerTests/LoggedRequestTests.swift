import Foundation
@testable import LedgerCore
import Logging
import RetainProcess
import RetainProto
import RetainRPC
import RetainState
import Testing

/// CreateTransfers logged as the request's own bytes (`LedgerEntry.create_transfers_request`,
/// field 110) instead of its transfers encoded again: recovery and replicas decode the batch
/// from those bytes and reach the state the live apply did; entries logged the old way (with
/// `transfers`) still replay.
@Suite("CreateTransfers logged as the request's bytes", .serialized)
struct LoggedRequestTests {
    static let ledger = Retain_V1_Ledger.self

    /// A batch from the budget to users: plain transfers, a linked chain, one refused transfer
    /// (`insufficient`: a user pays more than it has) and a replay of `replaying` if given.
    static func batch(_ tag: String, users: Int = 5, replaying: Retain_V1_Transfer? = nil) -> [Retain_V1_Transfer] {
        var transfers = (0..<users).map { user in
            transfer("\(tag)-\(user)", "budget:camp:points", "user:u\(user):points", Int64(10 + user))
        }
        transfers.append(transfer("\(tag)-l1", "budget:camp:points", "user:u0:points", 3, linked: true))
        transfers.append(transfer("\(tag)-l2", "user:u0:points", "user:u1:points", 2))
        transfers.append(transfer("\(tag)-insufficient", "user:u2:points", "user:u3:points", 1_000_000))
        if let replaying { transfers.append(replaying) }
        return transfers
    }

    /// The entry the service makes for a CreateTransfers request: its transfers to apply, its
    /// bytes to log.
    static func entry(_ transfers: [Retain_V1_Transfer], bytes: Bool) -> Retain_V1_LedgerEntry {
        let request = Retain_V1_CreateTransfersRequest(transfers: transfers)
        return Retain_V1_LedgerEntry(
            kind: .createTransfers, transfers: transfers, createTransfersRequest: bytes ? ProtoCodec.encode(request) : [])
    }

    static func log(_ store: StateStore<LedgerState>, _ entry: Retain_V1_LedgerEntry) async throws -> LedgerOutcome {
        try await store.writeDurably { transaction in
            var entry = entry
            entry.atMs = max(1_767_225_600_000, transaction.state.lastAtMs)
            return try transaction.log(entry)
        }
    }

    /// What two states must agree on: journal, chain head, clock and the users' balances.
    static func fingerprint(_ state: borrowing LedgerState) -> String {
        let balances = state.balances(of: (0..<5).map { "u\($0)" }, asset: "points", asOf: nil, now: state.lastAtMs)
        return "\(state.journalLength) \(hex(state.chainHead)) \(state.lastAtMs) "
            + balances.balances.map { "\($0.userId)=\($0.available)/\($0.balance)" }.joined(separator: ",")
    }

    @Test("a completed batch entry holds the request's bytes as they came and no transfers")
    func completedEntryHoldsTheBytes() throws {
        let transfers = Self.batch("a")
        var ledger = fundedLedger(users: [], amount: 0)
        var entry = Self.entry(transfers, bytes: true)
        let bytes = entry.createTransfersRequest
        entry.atMs = ledger.now
        let outcome = try ledger.state.apply(completing: &entry)
        #expect(entry.transfers.isEmpty && entry.createTransfersRequest == bytes)
        #expect(outcome.applied == UInt32(transfers.count - 1) && outcome.results.map(\.code) == [.insufficientFunds])
        // The logged record is the small header and the request's bytes, not the transfers again.
        let logged = ProtoCodec.encode(entry)
        #expect(logged.count < bytes.count + 64)
        #expect(logged.suffix(bytes.count).elementsEqual(bytes))
    }

    @Test("new and old batch records recover from the log to the state the live apply reached")
    func recoveryReplaysBothForms() async throws {
        let directory = try makeTemporaryDirectory("ledger-logged-request")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        // The same entries applied in memory, every batch in the old form (its transfers).
        let memory = try StateStore<LedgerState>(directory: nil, logger: logger)
        var live = ""
        do {
            let store = try StateStore<LedgerState>(directory: directory.path, logger: logger)
            defer { store.close() }
            let open = Retain_V1_LedgerEntry(kind: .openAccount, openAccount: .init(accountId: "budget:camp:points"))
            _ = try await Self.log(store, open)
            _ = try await Self.log(memory, open)
            let first = Self.batch("old")
            let entries = [
                // Logged as earlier binaries did: the transfers, no request bytes.
                Self.entry(first, bytes: false),
                Self.entry(Self.batch("new1", replaying: first[0]), bytes: true),
                Self.entry(Self.batch("new2"), bytes: true),
            ]
            for (index, entry) in entries.enumerated() {
                let outcome = try await Self.log(store, entry)
                let reference = try await Self.log(memory, Self.entry(entry.transfers, bytes: false))
                #expect(outcome.applied == reference.applied && outcome.results == reference.results, "entry \(index)")
                #expect(outcome.firstSequence == reference.firstSequence)
            }
            live = store.read { Self.fingerprint($0) }
            #expect(live == memory.read { Self.fingerprint($0) })
            // Seven of each batch's eight transfers apply (one is refused; the replay adds nothing).
            #expect(store.read { $0.journalLength } == 3 * 7)
        }
        let recovered = try StateStore<LedgerState>(directory: directory.path, logger: logger)
        defer { recovered.close() }
        #expect(recovered.read { Self.fingerprint($0) } == live)
        #expect(recovered.read { $0.invariantViolations() }.isEmpty)
    }

    @Test("a batch record whose request bytes do not decode refuses replay and changes nothing")
    func undecodableBytesRefuse() throws {
        var ledger = fundedLedger(users: ["alice"], amount: 10)
        let before = Self.fingerprint(ledger.state)
        let broken = Retain_V1_LedgerEntry(
            kind: .createTransfers, atMs: ledger.now + 1, journalLength: ledger.state.journalLength + 1,
            createTransfersRequest: [0x0A, 0xFF, 0xFF, 0xFF])
        #expect(throws: StateRecoveryError.self) { try ledger.state.apply(broken) }
        #expect(Self.fingerprint(ledger.state) == before)
    }

    @Test("SIGKILL after acknowledged batches: the restarted ledger has the same balances, journal and chain head")
    func killAfterBatches() async throws {
        let directory = try makeTemporaryDirectory("ledger-logged-request-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["serve", "--data-dir", directory.path, "--log-level", "warning"]
        let users = (0..<5).map { "u\($0)" }
        var server = try ServerProcess("retain-ledger", arguments: arguments)
        var client = RPCClient(host: "127.0.0.1", port: server.port)
        _ = try await client.unary(Self.ledger.openAccount, .init(accountId: "budget:camp:points"))
        var previous: Retain_V1_Transfer?
        for round in 0..<6 {
            let batch = Self.batch("r\(round)", replaying: previous)
            previous = batch[1]
            let answer = try await client.unary(
                Self.ledger.createTransfers, .init(transfers: batch, omitApplied: round % 2 == 0))
            #expect(answer.applied == UInt32(batch.count - (round == 0 ? 1 : 2)))
        }
        let balances = try await client.unary(Self.ledger.getBalances, .init(userIds: users, asset: "points"))
        let audit = try await client.unary(Self.ledger.audit, .init(verifyChain: true))
        #expect(audit.balanced && audit.chainVerified && audit.journalLength == 6 * 7)
        server.kill()
        await client.close()

        server = try ServerProcess("retain-ledger", arguments: arguments)
        defer { server.stop() }
        client = RPCClient(host: "127.0.0.1", port: server.port)
        let after = try await client.unary(Self.ledger.getBalances, .init(userIds: users, asset: "points"))
        let recovered = try await client.unary(Self.ledger.audit, .init(verifyChain: true))
        #expect(after.balances == balances.balances)
        #expect(recovered.balanced && recovered.chainVerified)
        #expect(recovered.journalLength == audit.journalLength && recovered.chainHead == audit.chainHead)
        await client.close()
    }
}
