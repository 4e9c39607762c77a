import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Replaces a small file durably: write a temporary, fsync it, rename it over the file, fsync
/// the directory.
enum DurableFile {
    static func write(_ data: Data, to path: String, via temporary: String) throws {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReplicationError.io("open \(temporary)", errno) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { bytes in Glibc.write(fd, bytes.baseAddress, bytes.count) }
        guard written == data.count else { throw ReplicationError.io("write \(temporary)", errno) }
        guard fsync(fd) == 0 else { throw ReplicationError.io("fsync \(temporary)", errno) }
        guard rename(temporary, path) == 0 else { throw ReplicationError.io("rename \(temporary)", errno) }
        let directory = (path as NSString).deletingLastPathComponent
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }
}
