/// One key as etcd stores it, with the revisions that tell who wrote it and when.
///
/// Leader election reads these fields rather than the value alone: `createRevision` orders
/// candidates, `modRevision` is what a compare-and-swap pins, and `lease` says whose session
/// keeps the key alive.
public struct EtcdKeyValue: Sendable, Equatable {
    /// The key, as UTF-8 text.
    public var key: String
    /// The value's bytes (empty for a delete event).
    public var value: [UInt8]
    /// The revision of the put that created the key (0 for a delete event).
    public var createRevision: Int64
    /// The revision of the last change to the key.
    public var modRevision: Int64
    /// How many times the key was put since it was created (0 for a delete event).
    public var version: Int64
    /// The lease the key is attached to, or 0 when none.
    public var lease: Int64

    /// A key-value with the given fields; the revisions default to 0 ("not known").
    public init(
        key: String, value: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0,
        lease: Int64 = 0
    ) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}
