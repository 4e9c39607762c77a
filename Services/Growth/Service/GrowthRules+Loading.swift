public import GrowthCore
import Foundation

extension GrowthRules {
    /// The rules in the JSON file at `path`, or the standard rules when `path` is nil.
    /// - Throws: ``ConfigurationError`` naming the file and the bad entry.
    public static func load(path: String?) throws(ConfigurationError) -> GrowthRules {
        guard let path else { return .standard }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError("", "growth configuration \(path): cannot be read: \(error.localizedDescription)")
        }
        do {
            return try GrowthRules(json: data)
        } catch {
            throw ConfigurationError(error.path, "\(error.problem) (in growth configuration \(path))")
        }
    }
}
