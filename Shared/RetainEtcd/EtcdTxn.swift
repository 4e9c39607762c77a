/// A compare-and-swap: when every comparison holds, etcd applies `success`, otherwise `failure`,
/// in one revision.
///
/// Creating a key only if it is absent is `compare: [.init(key: k, target: .version(0), result: .equal)]`
/// with a put in `success`: of two concurrent creators, exactly one sees `succeeded`.
public struct EtcdTxn: Sendable {
    /// The conditions; all must hold for `success` to run.
    public var compare: [EtcdCompare]
    /// The operations applied when every comparison holds.
    public var success: [EtcdOperation]
    /// The operations applied otherwise.
    public var failure: [EtcdOperation]

    /// A transaction of the given comparisons and branches.
    public init(compare: [EtcdCompare], success: [EtcdOperation], failure: [EtcdOperation] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

/// What a transaction did.
public struct EtcdTxnResult: Sendable {
    /// True when every comparison held and `success` ran.
    public var succeeded: Bool
    /// The store's revision after the transaction.
    public var revision: Int64
    /// The answers to the `.get` operations of the branch taken, in order; each is empty when the
    /// key did not exist.
    public var gets: [[EtcdKeyValue]]

    /// A result with the given fields.
    public init(succeeded: Bool, revision: Int64, gets: [[EtcdKeyValue]]) {
        self.succeeded = succeeded
        self.revision = revision
        self.gets = gets
    }
}
