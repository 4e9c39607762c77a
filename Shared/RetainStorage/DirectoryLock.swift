import Glibc
import Synchronization

/// The exclusive `flock(2)` that lets only one store open a data directory.
///
/// The lock is taken on the directory itself (a descriptor opened with `O_DIRECTORY`), so no
/// file a person can delete stands between two writers: removing `<dir>/LOCK` changes nothing.
/// The holder also writes its pid into `<dir>/LOCK` for people and tools to read; a refused
/// opener names the holder from the kernel's own table (`/proc/locks`, matched by the
/// directory's inode) and falls back to that file. The kernel drops the lock when the holder
/// exits, however it exits, so a crash never leaves a stale lock.
package final class DirectoryLock: Sendable {
    /// The file inside the data directory that names the holder's pid (informational only).
    package static let fileName = "LOCK"

    /// The locked directory.
    package let directory: String
    private let descriptor: Mutex<Int32>

    /// Takes the lock on `directory`, or throws ``StorageError/locked(directory:holderPID:)``.
    package init(directory: String) throws(StorageError) {
        let fd = try Self.openDirectory(directory)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.holderPID(of: fd, directory: directory)
            Glibc.close(fd)
            if code == EWOULDBLOCK { throw .locked(directory: directory, holderPID: holder) }
            throw .io(operation: "flock", file: directory, errno: code)
        }
        self.directory = directory
        self.descriptor = Mutex(fd)
        Self.writePIDFile(directory: directory)
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

    /// The pid of the process holding `directory`'s lock, or `nil` when nobody holds it
    /// (-1 when it is held but the holder cannot be named).
    package static func holder(directory: String) -> Int32? {
        guard let fd = try? openDirectory(directory) else { return nil }
        defer { Glibc.close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return holderPID(of: fd, directory: directory) ?? -1
    }

    private static func openDirectory(_ directory: String) throws(StorageError) -> Int32 {
        var fd: Int32
        repeat {
            fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw .io(operation: "open", file: directory, errno: errno) }
        return fd
    }

    /// Writes this process's pid into `<dir>/LOCK`. Best effort: the lock does not depend on it.
    private static func writePIDFile(directory: String) {
        let path = DataDirectory(path: directory).file(fileName)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let pid = "\(getpid())\n"
        _ = pid.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        Glibc.close(fd)
    }

    /// The holder of the flock on the directory open as `fd`: from `/proc/locks` (the kernel's
    /// table, which lists the inode of every FLOCK), else from the LOCK file.
    private static func holderPID(of fd: Int32, directory: String) -> Int32? {
        var info = stat()
        if fstat(fd, &info) == 0, let pid = kernelHolder(inode: UInt64(info.st_ino), device: UInt64(info.st_dev)) {
            return pid
        }
        return pidFromFile(directory: directory)
    }

    /// Reads `/proc/locks` lines such as `1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF` and returns
    /// the pid of the exclusive FLOCK on the given inode.
    private static func kernelHolder(inode: UInt64, device: UInt64) -> Int32? {
        guard let file = fopen("/proc/locks", "r") else { return nil }
        defer { fclose(file) }
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & 0xffff_f000)
        let minor = (device & 0xff) | ((device >> 12) & 0xffff_ff00)
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE" else { continue }
            let location = fields[5].split(separator: ":")
            guard location.count == 3, UInt64(location[2]) == inode,
                UInt64(location[0], radix: 16) == major, UInt64(location[1], radix: 16) == minor
            else { continue }
            return Int32(fields[4])
        }
        return nil
    }

    private static func pidFromFile(directory: String) -> Int32? {
        let fd = open(DataDirectory(path: directory).file(fileName), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[..<count], as: UTF8.self)
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int32($0) }
    }
}
