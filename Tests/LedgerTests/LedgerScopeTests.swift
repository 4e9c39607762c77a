import Foundation
import RetainAuth
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// The ledger's scope rules over TCP, against a `retain-ledger` that checks service tokens.
@Suite("ledger scopes over TCP", .serialized)
struct LedgerScopeTests {
    @Test("ExpireLots as of a later time needs admin; ledger:write may expire what is due; account opening needs admin")
    func expiryAheadNeedsAdmin() async throws {
        let directory = try makeTemporaryDirectory("ledger-scopes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretText = ServiceSecret.generateText()
        let server = try ServerProcess(
            "retain-ledger", arguments: ["serve", "--data-dir", directory.path, "--log-level", "warning"],
            serviceSecret: secretText)
        defer { server.stop() }
        let minter = TokenMinter(secret: try ServiceSecret(secretText), configuration: .init(issuer: "tests"))
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        defer { Task { await client.close() } }
        let writer = CallOptions(authorization: minter.authorization(scopes: try #require(ScopeSet.write("ledger"))))
        let admin = CallOptions(authorization: minter.authorization(scopes: .admin))
        let ledger = Retain_V1_Ledger.self
        let later = Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000

        let refused = await #expect(throws: RPCError.self) {
            _ = try await client.unary(ledger.expireLots, .init(asOfMs: later), options: writer)
        }
        #expect(refused?.code == .permissionDenied)
        #expect(refused?.message.contains("admin") == true)
        let due = try await client.unary(ledger.expireLots, .init(), options: writer)
        #expect(due.expiredLots == 0)
        let ahead = try await client.unary(ledger.expireLots, .init(asOfMs: later), options: admin)
        #expect(ahead.expiredLots == 0)

        let opening = await #expect(throws: RPCError.self) {
            _ = try await client.unary(ledger.openAccount, .init(accountId: "budget:s:points"), options: writer)
        }
        #expect(opening?.code == .permissionDenied)
        let opened = try await client.unary(ledger.openAccount, .init(accountId: "budget:s:points"), options: admin)
        #expect(opened.created)
    }
}
