import Foundation
import RetainProcess
import RetainTestSupport
import Testing

/// `retain webhook` against a live `retain-growth` (credential checks off), reached the three
/// ways every gateway command takes: `--server`, `--gateway` and `$RETAIN_SERVER`.
@Suite("retain webhook against a live growth service", .serialized)
struct WebhookCommandTests {
    @Test("subscribe, list, deliveries, dead letters, delete; a bad url exits 3 naming the field; a bad service is refused")
    func lifecycle() throws {
        let directory = try makeTemporaryDirectory("retain-webhook")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess("retain-growth", arguments: ["--ops-port=-1", "--data-dir", directory.path])
        defer { server.stop() }
        let address = "127.0.0.1:\(server.port)"
        let cli = CommandLineTests()

        let created = try cli.retain([
            "webhook", "subscribe", "growth", "--url", "http://127.0.0.1:9/hook", "--event", "level_change", "--id", "crm",
            "--server", address,
        ])
        #expect(created.status == 0, "\(created)")
        #expect(created.stdout.contains("\"id\": \"crm\"") || created.stdout.contains("\"id\" : \"crm\""), "\(created.stdout)")
        #expect(created.stdout.contains("whsec_"), "the secret is shown once: \(created.stdout)")

        let listed = try cli.retain(["webhook", "list", "growth", "--gateway", address])
        #expect(listed.status == 0 && listed.stdout.contains("crm"), "\(listed)")
        #expect(!listed.stdout.contains("whsec_"), "a list never shows the secret: \(listed.stdout)")

        let pending = try cli.retain(["webhook", "deliveries", "growth"], environment: ["RETAIN_SERVER": address])
        #expect(pending.status == 0, "\(pending)")
        let dead = try cli.retain(["webhook", "dead-letters", "growth"], environment: ["RETAIN_SERVER": address])
        #expect(dead.status == 0, "\(dead)")

        let refused = try cli.retain([
            "webhook", "subscribe", "growth", "--url", "ftp://example.com/x", "--event", "level_change", "--server", address,
        ])
        #expect(refused.status == 3, "INVALID_ARGUMENT: \(refused)")
        #expect(refused.stderr.contains("url"), "\(refused.stderr)")
        let ledger = try cli.retain(["webhook", "list", "ledger", "--server", address])
        #expect(ledger.status != 0 && ledger.stderr.contains("profile, growth or feedback"), "\(ledger)")

        let deleted = try cli.retain(["webhook", "delete", "growth", "crm", "--server", address])
        #expect(deleted.status == 0, "\(deleted)")
        let empty = try cli.retain(["webhook", "list", "growth", "--server", address])
        #expect(empty.status == 0 && !empty.stdout.contains("crm"), "\(empty)")
    }
}
