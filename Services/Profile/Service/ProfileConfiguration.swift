import Foundation
public import ProfileCore
public import RetainProto
import RetainWire

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
    /// What counts as an activated user in the funnel: active on at least `min_active_days`
    /// distinct days among the first `within_days` after registration. Default 2 of 7.
    public var activation = ActivationRule()
    /// The default contact policy.
    public var contactPolicy = ContactPolicyConfiguration.standard

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case activityTimeZone, maxClockSkewMs, lifecycle, activation, contactPolicy
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ProfileConfiguration()
        activityTimeZone = try container.decodeIfPresent(String.self, forKey: .activityTimeZone) ?? defaults.activityTimeZone
        maxClockSkewMs = try container.decodeIfPresent(Int64.self, forKey: .maxClockSkewMs) ?? defaults.maxClockSkewMs
        lifecycle = try container.decodeIfPresent(LifecycleRules.self, forKey: .lifecycle) ?? defaults.lifecycle
        activation = try container.decodeIfPresent(ActivationRule.self, forKey: .activation) ?? defaults.activation
        contactPolicy =
            try container.decodeIfPresent(ContactPolicyConfiguration.self, forKey: .contactPolicy)
            ?? defaults.contactPolicy
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
        try rejectUnknownKeys(data)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let configuration: ProfileConfiguration
        do {
            configuration = try decoder.decode(ProfileConfiguration.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context)
        {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\(snakeCase($0.stringValue))" }.joined()
            throw ConfigurationError("configuration \(path.isEmpty ? "(root)" : String(path.dropFirst())): \(context.debugDescription)")
        } catch {
            throw ConfigurationError("configuration \(path) is not valid JSON: \(error)")
        }
        try configuration.validate()
        return configuration
    }

    /// The keys a configuration file may hold: a nested object is a dictionary of its keys, an
    /// array of objects is a one-element array of the object's keys.
    private static var schema: [String: Any] {
        [
            "activity_time_zone": true, "max_clock_skew_ms": true,
            "lifecycle": Dictionary(uniqueKeysWithValues: LifecycleRules.fileKeys.map { ($0, true as Any) }),
            "activation": ["min_active_days": true, "within_days": true] as [String: Any],
            "contact_policy": [
                "channels": [
                    Dictionary(
                        uniqueKeysWithValues: [
                            "channel", "enabled", "max_per_day", "max_per_week", "cost", "quiet_hours_apply",
                        ].map { ($0, true as Any) })
                ],
                "max_per_day_total": true, "max_per_week_total": true, "default_campaign_window_ms": true,
                "campaign_windows": [["campaign": true, "window_ms": true] as [String: Any]],
                "quiet_hours": ["start": true, "end": true] as [String: Any],
                "default_time_zone": true, "cost_asset": true,
            ] as [String: Any],
        ]
    }

    /// Refuses keys the configuration does not know, so that a misspelt key is not silently
    /// ignored; the error names the key's path.
    private static func rejectUnknownKeys(_ data: Data) throws(ConfigurationError) {
        guard let root = try? JSONSerialization.jsonObject(with: data) else { return }
        func walk(_ value: Any, _ schema: Any, _ path: String) throws(ConfigurationError) {
            if let object = value as? [String: Any], let keys = schema as? [String: Any] {
                for (key, child) in object {
                    let childPath = path.isEmpty ? key : "\(path).\(key)"
                    guard let childSchema = keys[key] else {
                        throw ConfigurationError("configuration: unknown key \(childPath)")
                    }
                    try walk(child, childSchema, childPath)
                }
            } else if let array = value as? [Any], let element = (schema as? [Any])?.first {
                for (index, child) in array.enumerated() { try walk(child, element, "\(path)[\(index)]") }
            }
        }
        try walk(root, schema, "")
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
        if let problem = activation.problems().first { throw ConfigurationError(problem) }
        let policy = try contactPolicy.policy()
        do {
            try RequestValidator(now: 0, maximumClockSkew: 0).validate(policy, "contact_policy")
        } catch {
            throw ConfigurationError(error.message)
        }
    }

    /// The default contact policy (validated by ``validate()``).
    public var defaultPolicy: Retain_V1_ContactPolicy {
        (try? contactPolicy.policy()) ?? Retain_V1_ContactPolicy()
    }
}
