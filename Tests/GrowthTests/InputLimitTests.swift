import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Oversized fields against the real `retain-growth`: INVALID_ARGUMENT naming the field, in a
/// short answer.
@Suite("retain-growth input limits", .serialized)
struct GrowthInputLimitTests {
    @Test("a huge time zone gets INVALID_ARGUMENT naming time_zone without echoing it back")
    func hugeTimeZone() async throws {
        let directory = try makeTemporaryDirectory("growth-limits")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try startGrowth(directory)
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let error = await statusOf {
            _ = try await client.unary(
                Retain_V1_Growth.awardGrowth,
                .init(
                    userId: "u1", action: "login", idempotencyKey: "k1",
                    timeZone: String(repeating: "Z", count: 2 << 20)))
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.details["field"] == "time_zone")
        #expect((error?.message.utf8.count ?? .max) < 512)
        #expect(
            try await client.unary(Retain_V1_Growth.awardGrowth, .init(userId: "u1", action: "login", idempotencyKey: "k1")).awardedGrowth
                >= 0)
        await client.close()
        #expect(server.stop() == 0)
    }
}
