import Glibc

/// `<dir>/CLEAN`: written by ``DurableStore/close()`` once every record is written and synced,
/// removed (durably) before the next append. While it exists, the log must end exactly at its
/// sequence: a torn record or a different last sequence is damage after a clean stop (a disk
/// or a person changed the files), which recovery refuses instead of cutting off as a crash's
/// interrupted append.
///
/// The file is one line of text: `clean-shutdown last_sequence=<n>`.
struct CleanShutdownMarker: Equatable {
    /// The marker's file name inside the data directory.
    static let fileName = "CLEAN"

    /// The last sequence written before the clean stop.
    var lastSequence: UInt64

    /// Writes the marker under a temporary name, syncs it, renames it and syncs the directory.
    func write(_ directory: DataDirectory) throws(StorageError) {
        try directory.replaceDurably(Self.fileName, with: Array("clean-shutdown last_sequence=\(lastSequence)\n".utf8))
    }

    /// The marker of `directory`, or nil when it has none. A marker that does not parse is
    /// corruption (the directory was changed by something other than a store).
    static func read(_ directory: DataDirectory) throws(StorageError) -> CleanShutdownMarker? {
        let path = directory.file(fileName)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw .io(operation: "open", file: path, errno: errno)
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        let text = count > 0 ? String(decoding: bytes[..<count], as: UTF8.self) : ""
        let prefix = "clean-shutdown last_sequence="
        guard text.hasPrefix(prefix),
            let sequence = UInt64(text.dropFirst(prefix.count).prefix { $0.isNumber })
        else {
            throw .corrupt(file: path, offset: 0, reason: "not a clean-shutdown marker")
        }
        return CleanShutdownMarker(lastSequence: sequence)
    }

    /// Removes the marker and syncs the directory; a missing marker is not an error.
    static func remove(_ directory: DataDirectory) throws(StorageError) {
        try directory.remove(fileName)
        try directory.sync()
    }
}
