import Foundation

/// The ledger's tunables, from a JSON file (`--config`) or the defaults.
///
/// ```json
/// { "sweepIntervalMs": 1000, "expiryBatchLimit": 10000 }
/// ```
public struct LedgerConfiguration: Codable, Sendable, Equatable {
    /// How often the ledger looks for holds that timed out and lots that expired, in ms.
    public var sweepIntervalMs: Int = 1000
    /// Most lots one scheduled expiry entry expires (the sweep repeats while more are due).
    public var expiryBatchLimit: UInt32 = 10_000

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        sweepIntervalMs = try container.decodeIfPresent(Int.self, forKey: .sweepIntervalMs) ?? sweepIntervalMs
        expiryBatchLimit = try container.decodeIfPresent(UInt32.self, forKey: .expiryBatchLimit) ?? expiryBatchLimit
    }

    /// Loads and validates a configuration file; the error names the bad entry.
    public static func load(path: String) throws -> LedgerConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LedgerConfigurationError("cannot read \(path): \(error.localizedDescription)")
        }
        let configuration: LedgerConfiguration
        do {
            configuration = try JSONDecoder().decode(LedgerConfiguration.self, from: data)
        } catch {
            throw LedgerConfigurationError("\(path) is not a valid ledger configuration: \(error)")
        }
        try configuration.validate(source: path)
        return configuration
    }

    /// Throws when an entry is out of range.
    public func validate(source: String = "configuration") throws {
        guard (10...3_600_000).contains(sweepIntervalMs) else {
            throw LedgerConfigurationError("\(source): sweepIntervalMs must be 10 to 3600000, not \(sweepIntervalMs)")
        }
        guard (1...100_000).contains(expiryBatchLimit) else {
            throw LedgerConfigurationError("\(source): expiryBatchLimit must be 1 to 100000, not \(expiryBatchLimit)")
        }
    }
}

/// A configuration that cannot be used.
public struct LedgerConfigurationError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
