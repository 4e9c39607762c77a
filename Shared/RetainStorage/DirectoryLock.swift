import Glibc
import Synchronization

/// The exclusive `flock(2)` on `<dir>/LOCK` that lets only one store open a data directory.
///
/// The holder writes its pid into the file so a refused opener can say who holds it. The kernel
/// drops the lock when the holder exits, however it exits, so a crash never leaves a stale lock.
package final class DirectoryLock: Sendable {
    /// The lock file's name inside the data directory.
    package static let fileName = "LOCK"

    /// The path of the lock file.
    package let path: String
    private let descriptor: Mutex<Int32>

    /// Takes the lock on `directory`, or throws ``StorageError/locked(directory:holderPID:)``.
    package init(directory: String) throws(StorageError) {
        let path = DataDirectory(path: directory).file(Self.fileName)
        var fd: Int32
        repeat {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw .io(operation: "open", file: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(fd)
            Glibc.close(fd)
            if code == EWOULDBLOCK { throw .locked(directory: directory, holderPID: holder) }
            throw .io(operation: "flock", file: path, errno: code)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.utf8CString.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count - 1, 0) }
        self.path = path
        self.descriptor = Mutex(fd)
    }

    deinit {
        release()
    }

    /// Releases the lock; later calls do nothing.
    ///
    /// Unlocks explicitly before closing: a child forked by another thread (for example a
    /// `Process` being launched) shares the open file description until it execs, and closing
    /// our descriptor alone would leave the lock held by that child for a moment.
    package func release() {
        descriptor.withLock { fd in
            if fd >= 0 {
                flock(fd, LOCK_UN)
                Glibc.close(fd)
                fd = -1
            }
        }
    }

    /// The pid of the process holding `directory`'s lock, or `nil` when nobody holds it.
    package static func holder(directory: String) -> Int32? {
        let path = DataDirectory(path: directory).file(fileName)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return readPID(fd) ?? -1
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[..<count], as: UTF8.self)
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int32($0) }
    }
}
