import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Malformed fields against the real `retain-ledger`: INVALID_ARGUMENT naming the field.
@Suite("retain-ledger input limits", .serialized)
struct LedgerInputLimitTests {
    @Test("LookupTransfers refuses a malformed or oversized transfer id, naming its position")
    func lookupIDs() async throws {
        let directory = try makeTemporaryDirectory("ledger-limits")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try LedgerServerTests.start(directory)
        let client = LedgerServerTests.client(server)
        for (ids, field) in [
            (["t-1", "has space"], "transfer_ids[1]"), ([String(repeating: "k", count: 257)], "transfer_ids[0]"),
            (["t-1", ""], "transfer_ids[1]"),
        ] {
            do {
                _ = try await client.unary(Retain_V1_Ledger.lookupTransfers, .init(transferIds: ids))
                Issue.record("\(field): accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument)
                #expect(error.details["field"] == field)
            }
        }
        _ = try await client.unary(Retain_V1_Ledger.lookupTransfers, .init(transferIds: ["t-1", String(repeating: "k", count: 256)]))
        await client.close()
        #expect(server.stop() == 0)
    }
}
