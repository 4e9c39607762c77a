public import Foundation

/// The canonical form of a rule-set document: the JSON object re-encoded with its keys sorted
/// and indented, so that the same rules always store the same bytes and two versions diff line
/// by line.
public enum RuleSetDocument {
    /// Most bytes a document may have: 1 MiB.
    public static let maximumBytes = 1 << 20

    /// `bytes` in canonical form.
    /// - Throws: ``RuleSetError/invalidDocument(field:problem:)`` when the bytes are not a JSON
    ///   object or exceed ``maximumBytes``.
    public static func canonical(_ bytes: [UInt8]) throws(RuleSetError) -> [UInt8] {
        guard !bytes.isEmpty else { throw RuleSetError.invalidDocument(field: "", problem: "is required") }
        guard bytes.count <= maximumBytes else {
            throw RuleSetError.invalidDocument(field: "", problem: "\(bytes.count) bytes; at most \(maximumBytes)")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw RuleSetError.invalidDocument(field: "", problem: "not valid JSON: \(error.localizedDescription)")
        }
        guard object is [String: Any] else {
            throw RuleSetError.invalidDocument(field: "", problem: "must be a JSON object")
        }
        do {
            let data = try JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            return Array(data) + [UInt8(ascii: "\n")]
        } catch {
            throw RuleSetError.invalidDocument(field: "", problem: "cannot be encoded: \(error.localizedDescription)")
        }
    }

    /// A `Codable` configuration as a canonical document (snake_case keys, as the files have).
    public static func encode<C: Encodable>(_ configuration: C) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(configuration)).map(Array.init) ?? []
        return (try? canonical(bytes)) ?? bytes
    }
}
