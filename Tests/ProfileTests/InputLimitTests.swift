import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Oversized and malformed fields against the real `retain-profile`: INVALID_ARGUMENT naming
/// the field, short answers, and segment filters bounded in size.
@Suite("retain-profile input limits", .serialized)
struct ProfileInputLimitTests {
    private func failure(_ body: () async throws -> Void) async -> RPCError? {
        do { try await body() } catch let error as RPCError { return error } catch { return RPCError(.unknown, "\(error)") }
        return nil
    }

    @Test("a huge attribute key or time zone gets INVALID_ARGUMENT naming the field, in a short answer")
    func hugeFields() async throws {
        let server = try ServerProcess("retain-profile", arguments: ["serve", "--log-level", "warning", "--ops-port=-1"])
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let huge = String(repeating: "K", count: 2 << 20)
        let key = await failure { _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "u1", attributes: [huge: "v"])) }
        #expect(key?.code == .invalidArgument)
        #expect(key?.details["field"] == "attributes[" + huge.prefix(64) + "…(2097152 bytes)]")
        #expect((key?.message.utf8.count ?? .max) < 512)
        let zone = await failure { _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "u1", timeZone: huge)) }
        #expect(zone?.code == .invalidArgument)
        #expect(zone?.details["field"] == "time_zone")
        #expect((zone?.message.utf8.count ?? .max) < 512)
        #expect(try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "u1")).profile?.userId == "u1")
        await client.close()
        #expect(server.stop() == 0)
    }

    @Test("a segment filter with too many conditions or too long a value is INVALID_ARGUMENT naming the field")
    func segmentFilterBounds() async throws {
        let server = try ServerProcess("retain-profile", arguments: ["serve", "--log-level", "warning", "--ops-port=-1"])
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let many = (0..<101).map { Retain_V1_AttributeEquals(key: "k\($0)", values: ["v"]) }
        let tooMany = await failure {
            _ = try await client.unary(Retain_V1_Profile.countSegment, .init(filter: .init(attributesEqual: many)))
        }
        #expect(tooMany?.code == .invalidArgument)
        #expect(tooMany?.details["field"] == "filter.attributes_equal")
        let ranges = (0..<101).map { Retain_V1_AttributeRange(key: "k\($0)", hasMin: true, minValue: 1) }
        let tooManyRanges = await failure {
            _ = try await client.unary(Retain_V1_Profile.countSegment, .init(filter: .init(attributeRanges: ranges)))
        }
        #expect(tooManyRanges?.code == .invalidArgument)
        #expect(tooManyRanges?.details["field"] == "filter.attribute_ranges")
        let long = await failure {
            _ = try await client.unary(
                Retain_V1_Profile.countSegment,
                .init(
                    filter: .init(attributesEqual: [
                        .init(key: "plan", values: ["gold", String(repeating: "v", count: 1025)])
                    ])))
        }
        #expect(long?.code == .invalidArgument)
        #expect(long?.details["field"] == "filter.attributes_equal[0].values[1]")
        // The most allowed is still served.
        let allowed = (0..<100).map { Retain_V1_AttributeEquals(key: "k\($0)", values: ["v"]) }
        #expect(try await client.unary(Retain_V1_Profile.countSegment, .init(filter: .init(attributesEqual: allowed))).count == 0)
        await client.close()
        #expect(server.stop() == 0)
    }
}
