import Foundation

/// A decoded JSON object from the etcd gateway.
///
/// `JSONSerialization` hands back immutable Foundation values; the wrapper lets one cross an
/// `await` without copying it into Swift types first.
struct EtcdJSON: @unchecked Sendable {
    let fields: [String: Any]

    init(_ fields: [String: Any]) {
        self.fields = fields
    }

    /// Parses one JSON object.
    init(parsing bytes: some Collection<UInt8>) throws(EtcdError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw EtcdError(.protocolError, "answer is not JSON: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        guard let fields = object as? [String: Any] else {
            throw EtcdError(.protocolError, "answer is not a JSON object: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        self.fields = fields
    }

    /// The nested object at `name`, if present.
    subscript(object name: String) -> EtcdJSON? {
        (fields[name] as? [String: Any]).map(EtcdJSON.init)
    }

    /// The array of objects at `name`; empty when absent (the gateway omits empty arrays).
    subscript(objects name: String) -> [EtcdJSON] {
        ((fields[name] as? [Any]) ?? []).compactMap { ($0 as? [String: Any]).map(EtcdJSON.init) }
    }

    /// The 64-bit number at `name`: the gateway sends int64 as a string and omits zero.
    subscript(int64 name: String) -> Int64 {
        switch fields[name] {
        case let text as String: Int64(text) ?? 0
        case let number as NSNumber: number.int64Value
        default: 0
        }
    }

    /// The boolean at `name`; false when absent (the gateway omits false).
    subscript(bool name: String) -> Bool {
        (fields[name] as? Bool) ?? (fields[name] as? NSNumber)?.boolValue ?? false
    }

    /// The text at `name`, if present.
    subscript(string name: String) -> String? {
        fields[name] as? String
    }

    /// The base64 bytes at `name`; empty when absent.
    subscript(bytes name: String) -> [UInt8] {
        guard let text = fields[name] as? String, let data = Data(base64Encoded: text) else { return [] }
        return [UInt8](data)
    }

    /// The revision in the answer's `header`.
    var headerRevision: Int64 {
        self[object: "header"]?[int64: "revision"] ?? 0
    }

    /// The error etcd answered with, in either of the gateway's shapes: `{"error": "...", "code": 5,
    /// "message": "..."}` for unary calls, `{"error": {"grpc_code": 5, "message": "..."}}` inside a stream.
    var serverError: EtcdError? {
        if let nested = self[object: "error"] {
            let code = Int(nested[int64: "grpc_code"] != 0 ? nested[int64: "grpc_code"] : nested[int64: "code"])
            return EtcdError(.server(code: code, message: nested[string: "message"] ?? ""), nested[string: "message"] ?? "etcd error")
        }
        guard fields["error"] != nil || (fields["code"] != nil && fields["header"] == nil && fields["result"] == nil) else {
            return nil
        }
        let message = self[string: "message"] ?? self[string: "error"] ?? "etcd error"
        return EtcdError(.server(code: Int(self[int64: "code"]), message: message), message)
    }

    /// A key-value as the gateway encodes `mvccpb.KeyValue`.
    var keyValue: EtcdKeyValue {
        EtcdKeyValue(
            key: String(decoding: self[bytes: "key"], as: UTF8.self), value: self[bytes: "value"],
            createRevision: self[int64: "create_revision"], modRevision: self[int64: "mod_revision"],
            version: self[int64: "version"], lease: self[int64: "lease"])
    }

    /// The bytes of `object` as JSON.
    static func encode(_ object: [String: Any]) -> [UInt8] {
        // Only strings, numbers, booleans, arrays and dictionaries are built here, which always serialise.
        [UInt8]((try? JSONSerialization.data(withJSONObject: object, options: [])) ?? Data("{}".utf8))
    }

    /// `bytes` in base64, as the gateway expects keys and values.
    static func base64(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
    }

    /// `key`'s UTF-8 bytes in base64.
    static func base64(_ key: String) -> String {
        Data(key.utf8).base64EncodedString()
    }

    /// The `range_end` that selects every key starting with `prefix`: the prefix with its last byte
    /// below 0xff incremented and what follows dropped; `[0]` (every key) for an empty or all-0xff prefix.
    static func prefixEnd(_ prefix: String) -> [UInt8] {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return [0]
    }
}
