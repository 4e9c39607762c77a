/// Writes a JSON object field by field, in the order given: deterministic bytes for the same
/// calls (replay gives the same payloads), strings escaped per RFC 8259.
///
///     var json = WebhookJSON()
///     json.field("user_id", "u1")
///     json.field("to_level", 3)
///     json.text   // {"user_id":"u1","to_level":3}
public struct WebhookJSON: Sendable {
    private var body = ""

    public init() {}

    /// The object written so far.
    public var text: String { "{" + body + "}" }

    private mutating func key(_ name: String) {
        if !body.isEmpty { body += "," }
        body += Self.quoted(name) + ":"
    }

    /// A string field.
    public mutating func field(_ name: String, _ value: String) {
        key(name)
        body += Self.quoted(value)
    }

    /// An integer field.
    public mutating func field<I: BinaryInteger>(_ name: String, _ value: I) {
        key(name)
        body += String(value)
    }

    /// A number field (finite; NaN and infinities are written as null).
    public mutating func field(_ name: String, _ value: Double) {
        key(name)
        body += value.isFinite ? "\(value)" : "null"
    }

    /// A boolean field.
    public mutating func field(_ name: String, _ value: Bool) {
        key(name)
        body += value ? "true" : "false"
    }

    /// An array of strings.
    public mutating func field(_ name: String, _ values: [String]) {
        key(name)
        body += "[" + values.map(Self.quoted).joined(separator: ",") + "]"
    }

    /// A nested object or any JSON text, as is.
    public mutating func field(_ name: String, raw json: String) {
        key(name)
        body += json
    }

    /// `value` as a JSON string literal.
    public static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
