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

    /// Decodes and validates JSON. Keys not listed keep their defaults.
    package static func decode(_ data: Data) throws(ConfigurationError) -> FeedbackConfiguration {
        let configuration: FeedbackConfiguration
        do {
            configuration = try JSONDecoder().decode(FeedbackConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw ConfigurationError(Self.describe(error))
        } catch {
            throw ConfigurationError("not valid JSON: \(error)")
        }
        try configuration.validate()
        return configuration
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "(top level)" : text
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): is missing"
        case .typeMismatch(_, let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)): is null"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
