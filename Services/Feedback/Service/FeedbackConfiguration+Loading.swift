package import FeedbackCore
package import Foundation

extension FeedbackConfiguration {
    /// Reads and validates a JSON configuration file; the error names the file and the bad entry.
    package static func load(path: String) throws(ConfigurationError) -> FeedbackConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError("\(path): cannot read: \(error.localizedDescription)")
        }
        do {
            return try decode(data)
        } catch {
            throw ConfigurationError("\(path): \(error.description)")
        }
    }
}
