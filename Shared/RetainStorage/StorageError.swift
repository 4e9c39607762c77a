import Glibc

/// Everything the storage layer can report to its caller.
///
/// Every case that concerns a file names it (and, for damage, the byte offset), so an operator can
/// go straight to `retain-storage inspect` or `retain-storage repair` with the message in hand.
/// Services map ``unavailable(reason:)`` to gRPC `UNAVAILABLE`.
public enum StorageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Another process, or another store in this process, holds the data directory's `LOCK` file.
    case locked(directory: String, holderPID: Int32?)
    /// A file failed validation at `offset`: a checksum mismatch, a bad header, a gap in sequences.
    case corrupt(file: String, offset: Int64, reason: String)
    /// The store cannot accept or confirm writes: an earlier write or sync failed, or it is closed.
    ///
    /// An append that got this error may or may not be on disk: its outcome is unknown until the
    /// service restarts and recovers, which rebuilds exactly what is durable.
    case unavailable(reason: String)
    /// A system call failed on `file` with `errno`.
    case io(operation: String, file: String, errno: Int32)
    /// A record is larger than ``StorageConfiguration/maxRecordBytes``.
    case recordTooLarge(size: Int, limit: Int)
    /// The API was used out of order or with an argument the store cannot accept.
    case invalidOperation(String)

    public var description: String {
        switch self {
        case .locked(let directory, let holderPID):
            let holder = holderPID.map { "process \($0)" } ?? "another process"
            return "data directory \(directory) is locked by \(holder) (flock on the directory itself);"
                + " only one process may open it"
        case .corrupt(let file, let offset, let reason):
            return "corrupt data in \(file) at offset \(offset): \(reason);"
                + " run `retain-storage inspect` and `retain-storage repair` on its directory"
        case .unavailable(let reason):
            return "storage unavailable: \(reason)"
        case .io(let operation, let file, let code):
            return "\(operation) failed on \(file): \(StorageError.errorString(code)) (errno \(code))"
        case .recordTooLarge(let size, let limit):
            return "record of \(size) bytes exceeds the limit of \(limit) bytes"
        case .invalidOperation(let message):
            return "invalid storage operation: \(message)"
        }
    }

    /// The C library's text for an `errno` value.
    static func errorString(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
