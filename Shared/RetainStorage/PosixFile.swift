import Glibc

/// An open file descriptor with the few I/O operations the store needs, closed in `deinit`.
///
/// Every call retries on `EINTR`, loops over short reads and writes, and reports a failure as
/// ``StorageError/io(operation:file:errno:)`` naming the file. Writes and syncs consult the
/// configuration's ``FaultInjection`` so tests can make them fail.
final class PosixFile {
    /// The path the file was opened with.
    let path: String
    private var descriptor: Int32
    private let faults: FaultInjection?

    /// Opens `path` with `open(2)` flags (`O_CLOEXEC` is always added).
    init(path: String, flags: Int32, mode: mode_t = 0o644, faults: FaultInjection? = nil) throws(StorageError) {
        var fd: Int32
        repeat {
            fd = open(path, flags | O_CLOEXEC, mode)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw .io(operation: "open", file: path, errno: errno) }
        self.path = path
        self.descriptor = fd
        self.faults = faults
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// The raw descriptor (for `flock`).
    var rawDescriptor: Int32 { descriptor }

    /// Writes all of `bytes` at the current file position.
    func writeAll(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        try write(bytes, at: nil)
    }

    /// Writes all of `bytes` at `offset` with `pwrite(2)`; the file position is unchanged.
    func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StorageError) {
        try write(bytes, at: offset)
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64?) throws(StorageError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var total = bytes.count
        var injected: Int32?
        if let failure = faults?.injectedFailure(.write, path: path) {
            total = min(total, failure.writtenPrefix)
            injected = failure.code
        }
        try writeFully(base, count: total, at: offset, operation: "write")
        if let injected { throw .io(operation: "write", file: path, errno: injected) }
    }

    /// Writes `count` zero bytes at `offset` (a log segment's preallocated tail). Consults the
    /// fault hook as a ``FaultInjection/Operation/preallocate``, not as a record write.
    func writeZeros(at offset: Int64, count: Int) throws(StorageError) {
        if let failure = faults?.injectedFailure(.preallocate, path: path) {
            throw .io(operation: "write (preallocate)", file: path, errno: failure.code)
        }
        let zeros = Self.zeros
        var done = 0
        while done < count {
            let chunk = min(zeros.count, count - done)
            try writeFully(zeros.baseAddress!, count: chunk, at: offset + Int64(done), operation: "write (preallocate)")
            done += chunk
        }
    }

    /// Writes `count` bytes from `base` at `offset` (`pwrite(2)`) or at the file position
    /// (`write(2)`), over short writes and `EINTR`.
    private func writeFully(
        _ base: UnsafeRawPointer, count: Int, at offset: Int64?, operation: String
    ) throws(StorageError) {
        var done = 0
        while done < count {
            let result: Int
            if let offset {
                result = pwrite(descriptor, base + done, count - done, off_t(offset) + off_t(done))
            } else {
                result = Glibc.write(descriptor, base + done, count - done)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(operation: operation, file: path, errno: errno)
            }
            done += result
        }
    }

    /// 64 KiB of zeros, shared by every preallocating write (never written after it is made).
    private nonisolated(unsafe) static let zeros: UnsafeRawBufferPointer = {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 4096)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        return UnsafeRawBufferPointer(buffer)
    }()

    /// Reads into `buffer` from `offset` until it is full or the file ends; returns the byte count.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StorageError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let result = pread(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", file: path, errno: errno)
            }
            if result == 0 { break }
            done += result
        }
        return done
    }

    /// The file's size from `fstat(2)`.
    func size() throws(StorageError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(operation: "fstat", file: path, errno: errno) }
        return Int64(info.st_size)
    }

    /// Cuts (or extends) the file to `length` bytes.
    func truncate(to length: Int64) throws(StorageError) {
        var result: Int32
        repeat {
            result = ftruncate(descriptor, off_t(length))
        } while result != 0 && errno == EINTR
        guard result == 0 else { throw .io(operation: "ftruncate", file: path, errno: errno) }
    }

    /// `fdatasync(2)`: the data, and the metadata needed to read it, reach stable storage.
    func syncData() throws(StorageError) {
        if let failure = faults?.injectedFailure(.sync, path: path) {
            throw .io(operation: "fdatasync", file: path, errno: failure.code)
        }
        guard fdatasync(descriptor) == 0 else { throw .io(operation: "fdatasync", file: path, errno: errno) }
    }

    /// `fsync(2)`: the data and all metadata reach stable storage.
    func sync() throws(StorageError) {
        if let failure = faults?.injectedFailure(.sync, path: path) {
            throw .io(operation: "fsync", file: path, errno: failure.code)
        }
        guard fsync(descriptor) == 0 else { throw .io(operation: "fsync", file: path, errno: errno) }
    }

    /// Closes the descriptor now rather than in `deinit`.
    func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }
}
