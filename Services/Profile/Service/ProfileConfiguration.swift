import Foundation
public import ProfileCore
public import RetainProto

/// The Profile service's configuration: a JSON file (`--config`, snake_case keys), every key
/// optional with the defaults below. See `Services/Profile/Config/profile.json`.
public struct ProfileConfiguration: Codable, Sendable {
    /// IANA zone whose local days activity summaries, lifecycle stages and retention count.
    /// Fixed once the data holds users. Default "UTC".
    public var activityTimeZone = "UTC"
    /// How far in the future client times (registration, events) may lie, ms. Default 5 minutes.
    public var maxClockSkewMs: Int64 = 300_000
    /// Lifecycle thresholds.
    public var lifecycle = LifecycleRules()
    /// The default contact policy.
    public var contactPolicy = ContactPolicyConfiguration.standard
    /// When set, SetContactPolicy requires the call's credential to equal it (admin scope);
    /// when absent, the gateway is trusted to check scopes. Default absent.
    public var adminToken: String?

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case activityTimeZone, maxClockSkewMs, lifecycle, contactPolicy, adminToken
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ProfileConfiguration()
        activityTimeZone = try container.decodeIfPresent(String.self, forKey: .activityTimeZone) ?? defaults.activityTimeZone
        maxClockSkewMs = try container.decodeIfPresent(Int64.self, forKey: .maxClockSkewMs) ?? defaults.maxClockSkewMs
        lifecycle = try container.decodeIfPresent(LifecycleRules.self, forKey: .lifecycle) ?? defaults.lifecycle
        contactPolicy = try container.decodeIfPresent(ContactPolicyConfiguration.self, forKey: .contactPolicy)
            ?? defaults.contactPolicy
        adminToken = try container.decodeIfPresent(String.self, forKey: .adminToken)
    }

    /// Reads and validates a configuration file; nil `path` gives the defaults.
    public static func load(path: String?) throws(ConfigurationError) -> ProfileConfiguration {
        guard let path else { return ProfileConfiguration() }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError("cannot read configuration \(path): \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let configuration: ProfileConfiguration
        do {
            configuration = try decoder.decode(ProfileConfiguration.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\(snakeCase($0.stringValue))" }.joined()
            throw ConfigurationError("configuration \(path.isEmpty ? "(root)" : String(path.dropFirst())): \(context.debugDescription)")
        } catch {
            throw ConfigurationError("configuration \(path) is not valid JSON: \(error)")
        }
        try configuration.validate()
        return configuration
    }

    /// `silentDays` as the file spells it: `silent_days`.
    private static func snakeCase(_ key: String) -> String {
        var result = ""
        for character in key {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Checks every entry; the error names the first bad one.
    public func validate() throws(ConfigurationError) {
        guard ZoneCalendar.named(activityTimeZone) != nil else {
            throw ConfigurationError("activity_time_zone: unknown IANA time zone '\(activityTimeZone)'")
        }
        guard maxClockSkewMs >= 0 else { throw ConfigurationError("max_clock_skew_ms must not be negative") }
        if let problem = lifecycle.problems().first { throw ConfigurationError(problem) }
        let policy = try contactPolicy.policy()
        do {
            try RequestValidator(now: 0, maximumClockSkew: 0).validate(policy, "contact_policy")
        } catch {
            throw ConfigurationError(error.message)
        }
        if let adminToken, adminToken.isEmpty { throw ConfigurationError("admin_token must not be empty when given") }
    }

    /// The default contact policy (validated by ``validate()``).
    public var defaultPolicy: Retain_V1_ContactPolicy {
        (try? contactPolicy.policy()) ?? Retain_V1_ContactPolicy()
    }
}
