/// One condition of a transaction: a field of `key` compared with a value.
///
/// A key that does not exist has version, create revision and mod revision 0, so
/// `.version(0)` with `.equal` means "absent".
public struct EtcdCompare: Sendable {
    /// The field compared, with the value to compare it with.
    public enum Target: Sendable {
        /// How many times the key was put since it was created (0: absent).
        case version(Int64)
        /// The revision that created the key.
        case createRevision(Int64)
        /// The revision of the key's last change.
        case modRevision(Int64)
        /// The key's value.
        case value([UInt8])
    }

    /// How the field must relate to the value.
    public enum Result: Sendable {
        case equal, notEqual, greater, less
    }

    /// The key whose field is compared.
    public var key: String
    /// The field and the value it is compared with.
    public var target: Target
    /// The relation that must hold.
    public var result: Result

    /// A condition that `target`'s field of `key` relates to its value by `result`.
    public init(key: String, target: Target, result: Result) {
        self.key = key
        self.target = target
        self.result = result
    }
}
