import Glibc

/// The files of one data directory: their names, listing, and the directory-level operations
/// (create, rename, remove, sync) that make file creation and removal durable.
///
/// Layout:
///
///     <dir>/LOCK                                  flock'ed by the open store; holds its pid
///     <dir>/log-<first sequence, 20 digits>.wal   log segments
///     <dir>/snapshot-<covered sequence>.snap      snapshots (newest two kept)
///     <dir>/*.tmp                                 unfinished files; removed at recovery
///     <dir>/quarantine-<timestamp>/               what `retain-storage repair` dropped
package struct DataDirectory: Sendable {
    /// A log segment file and the first sequence its name announces.
    package struct SegmentEntry: Sendable, Equatable {
        package var name: String
        package var firstSequence: UInt64
    }

    /// A snapshot file and the sequence its name says it covers.
    package struct SnapshotEntry: Sendable, Equatable {
        package var name: String
        package var coveredSequence: UInt64
    }

    /// What the directory holds, each list sorted by sequence (oldest first).
    package struct Listing: Sendable {
        package var segments: [SegmentEntry] = []
        package var snapshots: [SnapshotEntry] = []
        /// Unfinished `.tmp` files left by a crash.
        package var temporaries: [String] = []
        /// `quarantine-*` directories left by repair.
        package var quarantines: [String] = []
    }

    /// The directory's path.
    package let path: String

    /// Refers to `path` without touching the file system.
    package init(path: String) {
        self.path = path
    }

    /// The path of `name` inside the directory.
    package func file(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// The name of the segment whose first record is `firstSequence`.
    package static func segmentName(firstSequence: UInt64) -> String {
        "log-\(zeroPadded(firstSequence)).wal"
    }

    /// The name of the snapshot covering records up to `coveredSequence`.
    package static func snapshotName(coveredSequence: UInt64) -> String {
        "snapshot-\(zeroPadded(coveredSequence)).snap"
    }

    /// The temporary name under which `name` is written before its atomic rename.
    package static func temporaryName(for name: String) -> String {
        if let dot = name.lastIndex(of: ".") { return String(name[..<dot]) + ".tmp" }
        return name + ".tmp"
    }

    /// Creates the directory and any missing parents (like `mkdir -p`), syncing each parent.
    package static func create(path: String) throws(StorageError) {
        var components: [Substring] = path.split(separator: "/", omittingEmptySubsequences: true)
        var prefix = path.hasPrefix("/") ? "/" : ""
        var created: [String] = []
        while !components.isEmpty {
            let component = components.removeFirst()
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            if mkdir(prefix, 0o755) == 0 {
                created.append(prefix)
                continue
            }
            let code = errno
            guard code == EEXIST else { throw .io(operation: "mkdir", file: prefix, errno: code) }
            var info = stat()
            guard stat(prefix, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .io(operation: "mkdir", file: prefix, errno: ENOTDIR)
            }
        }
        for directory in created {
            try DataDirectory(path: parent(of: directory)).sync()
        }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Lists the directory's segments, snapshots, temporaries and quarantines.
    package func listing() throws(StorageError) -> Listing {
        guard let stream = opendir(path) else { throw .io(operation: "opendir", file: path, errno: errno) }
        defer { closedir(stream) }
        var listing = Listing()
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if let sequence = Self.sequence(in: name, prefix: "log-", suffix: ".wal") {
                listing.segments.append(SegmentEntry(name: name, firstSequence: sequence))
            } else if let sequence = Self.sequence(in: name, prefix: "snapshot-", suffix: ".snap") {
                listing.snapshots.append(SnapshotEntry(name: name, coveredSequence: sequence))
            } else if name.hasSuffix(".tmp") {
                listing.temporaries.append(name)
            } else if name.hasPrefix("quarantine-") {
                listing.quarantines.append(name)
            }
        }
        listing.segments.sort { $0.firstSequence < $1.firstSequence }
        listing.snapshots.sort { $0.coveredSequence < $1.coveredSequence }
        listing.temporaries.sort()
        listing.quarantines.sort()
        return listing
    }

    private static func sequence(in name: String, prefix: String, suffix: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count == 20, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    /// `fsync(2)` on the directory itself, so that creations, renames and removals are durable.
    package func sync() throws(StorageError) {
        let directory = try PosixFile(path: path, flags: O_RDONLY | O_DIRECTORY)
        try directory.sync()
    }

    /// Replaces the small file `name` durably: written under its temporary name and synced,
    /// renamed over `name`, then the directory synced. A crash leaves the old content or the new,
    /// never a mix (the temporary is swept like any other).
    package func replaceDurably(_ name: String, with bytes: [UInt8]) throws(StorageError) {
        let temporary = file(Self.temporaryName(for: name))
        let written = try PosixFile(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { written.close() }
        try bytes.withBytes { (bytes) throws(StorageError) in try written.writeAll(bytes) }
        try written.sync()
        try rename(temporary, to: name)
        try sync()
    }

    /// Atomically renames `from` to `to` (both names inside this directory, or absolute paths).
    package func rename(_ from: String, to: String) throws(StorageError) {
        let source = from.hasPrefix("/") ? from : file(from)
        let target = to.hasPrefix("/") ? to : file(to)
        guard Glibc.rename(source, target) == 0 else { throw .io(operation: "rename", file: source, errno: errno) }
    }

    /// Removes the file `name`; a file that is already gone is not an error.
    package func remove(_ name: String) throws(StorageError) {
        let target = name.hasPrefix("/") ? name : file(name)
        guard unlink(target) == 0 || errno == ENOENT else {
            throw .io(operation: "unlink", file: target, errno: errno)
        }
    }

    /// The size of the file `name` (or of an absolute path), or `nil` if it does not exist.
    package func size(of name: String) -> Int64? {
        var info = stat()
        guard stat(name.hasPrefix("/") ? name : file(name), &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Whether the directory exists.
    package var exists: Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
