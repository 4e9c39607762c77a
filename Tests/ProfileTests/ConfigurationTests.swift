import Foundation
import ProfileCore
@testable import ProfileService
import RetainProto
import RetainWire
import Testing

@Suite("configuration and request validation")
struct ConfigurationTests {
    /// Loads `json` as a configuration file (written to a temporary file, removed after).
    func load(_ json: String) throws -> ProfileConfiguration {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("profile-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ProfileConfiguration.load(path: path)
    }

    @Test("the shipped configuration file loads and equals the built-in defaults")
    func shippedFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Services/Profile/Config/profile.json").path
        let loaded = try ProfileConfiguration.load(path: path)
        #expect(loaded.lifecycle == LifecycleRules())
        #expect(loaded.activation == ActivationRule())
        #expect(loaded.defaultPolicy == ProfileConfiguration().defaultPolicy)
    }

    @Test("absent keys keep defaults; a bad entry is refused with its name")
    func partialAndBad() throws {
        let partial = try load(#"{"lifecycle": {"silent_days": 5}}"#)
        #expect(partial.lifecycle.silentDays == 5)
        #expect(partial.lifecycle.churnedDays == 30)
        func failure(_ json: String) throws -> String {
            do {
                _ = try load(json)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(try failure(#"{"lifecycle": {"churned_days": 3}}"#).contains("lifecycle.churned_days"))
        #expect(try failure(#"{"activity_time_zone": "Mars/Olympus"}"#).contains("activity_time_zone"))
        #expect(try failure(#"{"contact_policy": {"channels": [{"channel": "fax"}]}}"#).contains("contact_policy.channels[0].channel"))
        #expect(
            try failure(#"{"contact_policy": {"channels": [], "quiet_hours": {"start": "25:00", "end": "08:00"}}}"#)
                .contains("quiet_hours.start"))
        #expect(try failure(#"{"lifecycle": {"silent_days": "seven"}}"#).contains("lifecycle.silent_days"))
        #expect(try failure(#"{"lifecycle": {"silent_dayz": 3}}"#).contains("unknown key lifecycle.silent_dayz"))
        #expect(
            try failure(#"{"contact_policy": {"channels": [{"channel": "sms", "cap": 1}]}}"#)
                .contains("contact_policy.channels[0].cap"))
    }

    @Test("invalid arguments name the field")
    func fieldNames() {
        let validator = RequestValidator(now: monday, maximumClockSkew: 300_000)
        func field(_ body: () throws -> Void) -> String? { rpcError(body)?.details["field"] }
        #expect(field { try validator.validate(Retain_V1_RegisterUserRequest(userId: "bad id")) } == "user_id")
        #expect(field { try validator.validate(Retain_V1_RegisterUserRequest()) } == "request_id")
        #expect(field { try validator.validate(Retain_V1_RegisterUserRequest(userId: "a", age: 200)) } == "age")
        #expect(field { try validator.validate(Retain_V1_RegisterUserRequest(userId: "a", timeZone: "Nowhere/City")) } == "time_zone")
        #expect(field { try validator.validate(Retain_V1_RegisterUserRequest(userId: "a", tags: ["Upper"])) } == "tags[0]")
        #expect(
            field { try validator.validate(Retain_V1_RegisterUserRequest(userId: "a", registeredAtMs: monday + day)) }
                == "registered_at_ms")
        #expect(field { try validator.validate(Retain_V1_ActivityEvent(userId: "a", eventId: "e", kind: "purchase")) } == "value")
        #expect(
            field { try validator.validate(Retain_V1_ActivityEvent(userId: "a", eventId: "has space", kind: "login")) }
                == "event_id")
        #expect(
            field {
                try validator.validate(
                    Retain_V1_ActivityEvent(
                        userId: "a", eventId: "e", kind: "login",
                        occurredAtMs: monday + 301_000))
            } == "occurred_at_ms")
        #expect(
            field {
                try validator.validate(
                    Retain_V1_UpdateAttributesRequest(
                        userId: "a", setAttributes: ["k": "v"],
                        removeAttributes: ["k"]))
            } == "remove_attributes[0]")
        #expect(
            field { try validator.validate(Retain_V1_CheckContactRequest(userId: "a", channels: [.unspecified], campaignId: "c")) }
                == "channels[0]")
        #expect(
            field {
                try validator.validate(
                    Retain_V1_AssignVariantRequest(
                        userId: "a", experimentId: "x",
                        variants: [
                            .init(name: "a", weight: 0)
                        ]))
            } == "variants")
        #expect(field { _ = try validator.page(Retain_V1_PageRequest(pageSize: 1001)) } == "page.page_size")
        #expect(
            field { try validator.validate(Retain_V1_SegmentFilter(attributeRanges: [.init(key: "k")])) }
                == "filter.attribute_ranges[0]")
    }
}
