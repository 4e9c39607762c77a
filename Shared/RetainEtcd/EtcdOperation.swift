/// One operation in a branch of a transaction.
public enum EtcdOperation: Sendable {
    /// Sets `key` to `value`, attached to `lease` when given.
    case put(key: String, value: [UInt8], lease: Int64?)
    /// Removes `key`.
    case delete(key: String)
    /// Reads `key`; its answer lands in `EtcdTxnResult.gets`.
    case get(key: String)
}
