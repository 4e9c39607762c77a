/// One change seen by a watch.
public struct EtcdWatchEvent: Sendable, Equatable {
    /// Whether the key was written or removed.
    public enum Kind: Sendable, Equatable {
        case put, delete
    }

    /// Whether the key was written or removed.
    public var kind: Kind
    /// The key after a put; for a delete, only `key` and `modRevision` (the revision of the delete).
    public var keyValue: EtcdKeyValue
    /// The revision of this change (the key's `modRevision`): resume a watch from `revision + 1`
    /// to see what follows it and nothing twice.
    public var revision: Int64

    /// An event with the given fields.
    public init(kind: Kind, keyValue: EtcdKeyValue, revision: Int64) {
        self.kind = kind
        self.keyValue = keyValue
        self.revision = revision
    }
}
