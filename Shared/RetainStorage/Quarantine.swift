import Glibc

/// The `quarantine-<UTC timestamp>/` directory where repair keeps a copy of everything it drops,
/// with a `MANIFEST.txt` saying what each file is and why it was dropped.
///
/// Created on first use, so a repair that drops nothing leaves no trace.
final class Quarantine {
    private let directory: DataDirectory
    /// The quarantine's path, once created.
    private(set) var path: String?

    init(directory: DataDirectory) {
        self.directory = directory
    }

    /// Moves the file `name` of the data directory into the quarantine.
    func move(_ name: String) throws(StorageError) {
        let target = try ensure() + "/" + name
        try directory.rename(name, to: target)
    }

    /// Copies `length` bytes of `source` from `offset` into the quarantine as `name`, synced.
    func copy(from source: String, offset: Int64, name: String) throws(StorageError) {
        let target = try ensure() + "/" + name
        let input = try PosixFile(path: source, flags: O_RDONLY)
        let output = try PosixFile(path: target, flags: O_WRONLY | O_CREAT | O_TRUNC)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var position = offset
        while true {
            let read = try input.read(into: chunk, at: position)
            if read == 0 { break }
            try output.writeAll(UnsafeRawBufferPointer(rebasing: chunk[0..<read]))
            position += Int64(read)
        }
        try output.sync()
    }

    /// Writes `MANIFEST.txt` and syncs the quarantine and the data directory.
    func finish(actions: [String]) throws(StorageError) {
        guard let path else { return }
        let text = "retain-storage repair of \(directory.path)\n\n" + actions.map { "- \($0)\n" }.joined()
        let manifest = try PosixFile(path: path + "/MANIFEST.txt", flags: O_WRONLY | O_CREAT | O_TRUNC)
        try Array(text.utf8).withBytes { (bytes) throws(StorageError) in try manifest.writeAll(bytes) }
        try manifest.sync()
        try DataDirectory(path: path).sync()
        try directory.sync()
    }

    private func ensure() throws(StorageError) -> String {
        if let path { return path }
        let base = directory.file("quarantine-" + Self.timestamp())
        var candidate = base
        var attempt = 1
        while mkdir(candidate, 0o755) != 0 {
            guard errno == EEXIST else { throw .io(operation: "mkdir", file: candidate, errno: errno) }
            attempt += 1
            candidate = base + "-\(attempt)"
        }
        try directory.sync()
        path = candidate
        return candidate
    }

    /// The current UTC time as `YYYYMMDD-hhmmss`.
    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
    }
}
