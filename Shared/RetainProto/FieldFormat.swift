public import RetainWire
/// The field formats that `common.proto` fixes for every service, checked in one place so
/// every service refuses the same inputs with the same messages.
public enum FieldFormat {
    /// Largest amount a request may carry (2^53), so that sums cannot overflow.
    public static let maximumAmount: Int64 = 1 << 53

    /// An entity id: 1 to 128 bytes of ASCII letters, digits and `.`, `_`, `-`, `@`.
    /// One pass over the bytes, stopping at the first wrong one (services call it on hot paths).
    @inlinable
    public static func isEntityID(_ text: some StringProtocol) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= 128 else { return false }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "-"), UInt8(ascii: "@"):
                continue
            default:
                return false
            }
        }
        return count > 0
    }

    /// A client-chosen key: 1 to 256 bytes of printable ASCII without spaces. (The same check
    /// over a `String`'s contiguous UTF-8: the generic one walks the UTF-8 view byte by byte.)
    @inlinable
    public static func isClientKey(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            guard utf8.count >= 1, utf8.count <= 256 else { return false }
            for byte in utf8 where byte <= 0x20 || byte >= 0x7F { return false }
            return true
        }
    }

    /// A client-chosen key: 1 to 256 bytes of printable ASCII without spaces.
    @inlinable
    public static func isClientKey(_ text: some StringProtocol) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= 256, byte > 0x20, byte < 0x7F else { return false }
        }
        return count > 0
    }

    /// A name (asset, action, kind, category, tag, key): 1 to 64 bytes of lower-case ASCII
    /// letters, digits and `_`, `.`, `-`.
    @inlinable
    public static func isName(_ text: some StringProtocol) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= 64 else { return false }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return count > 0
    }

    /// Most bytes of a client's value that an error message repeats.
    public static let echoedBytes = 64

    /// `value` cut to its first ``echoedBytes`` bytes, with `…` and its length when longer: for
    /// error messages and field paths, so that an answer never repeats a huge input back (a
    /// 4 MiB field would make a STATUS larger than the caller may receive).
    public static func shortened(_ value: some StringProtocol) -> String {
        let bytes = value.utf8
        guard bytes.count > echoedBytes else { return String(value) }
        return String(decoding: bytes.prefix(echoedBytes), as: UTF8.self) + "…(\(bytes.count) bytes)"
    }

    /// ``shortened(_:)`` in single quotes.
    public static func quoted(_ value: some StringProtocol) -> String {
        "'\(shortened(value))'"
    }

    /// What is wrong with `value` as an entity id, in the one wording every service answers
    /// with (`is required`, or the rule); nil when it is one.
    public static func entityIDProblem(_ value: some StringProtocol) -> String? {
        if value.isEmpty { return "is required" }
        return isEntityID(value) ? nil : "must be 1 to 128 bytes of ASCII letters, digits, '.', '_', '-' or '@'"
    }

    /// Throws INVALID_ARGUMENT naming `field` unless `value` is an entity id.
    public static func requireEntityID(_ value: String, field: String) throws(RPCError) {
        if let problem = entityIDProblem(value) { throw .invalidArgument(field: field, problem) }
    }

    /// Throws INVALID_ARGUMENT naming `field` unless `value` is a client-chosen key.
    public static func requireClientKey(_ value: String, field: String) throws(RPCError) {
        guard isClientKey(value) else {
            throw .invalidArgument(
                field: field,
                value.isEmpty
                    ? "is required"
                    : "must be 1 to 256 bytes of printable ASCII without spaces")
        }
    }

    /// Throws INVALID_ARGUMENT naming `field` unless `value` is a name.
    public static func requireName(_ value: String, field: String) throws(RPCError) {
        guard isName(value) else {
            throw .invalidArgument(
                field: field,
                value.isEmpty
                    ? "is required"
                    : "must be 1 to 64 bytes of lower-case ASCII letters, digits, '_', '.' or '-'")
        }
    }

    /// Throws INVALID_ARGUMENT naming `field` unless `0 <= value <= 2^53`.
    public static func requireAmount(_ value: Int64, field: String) throws(RPCError) {
        guard value >= 0 else { throw .invalidArgument(field: field, "must not be negative") }
        guard value <= maximumAmount else { throw .invalidArgument(field: field, "must be at most 2^53") }
    }
}
