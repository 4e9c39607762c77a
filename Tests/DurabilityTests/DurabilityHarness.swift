import Foundation
import Glibc
import RetainProcess
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainWire

/// A data directory under /tmp, removed (with a tmpfs mounted on it, if any) by ``remove()``.
struct DataDirectory {
    let url: URL
    var path: String { url.path }

    init(_ name: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Mounts a tmpfs of `mebibytes` on the directory (root only: CI runs as root).
    func mountSmallFilesystem(mebibytes: Int) throws {
        let status = mount("tmpfs", path, "tmpfs", 0, "size=\(mebibytes)m")
        guard status == 0 else { throw HarnessError("mount tmpfs on \(path) failed: errno \(errno) (needs root)") }
    }

    func remove() {
        _ = umount2(path, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(at: url)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Whether tmpfs can be mounted here (root); the full-disk tests need it.
let canMountFilesystems = getuid() == 0

/// The status code of a failed call, or nil when it succeeded.
func failure(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

/// Polls until `condition` holds; false after `timeout`.
func eventually(timeout: Duration = .seconds(15), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return false
}

/// `/readyz` of a process's ops port: the HTTP status, or 0 when it does not answer.
func readiness(_ server: ServerProcess) async -> Int {
    guard let port = server.opsPort else { return 0 }
    return (try? await OpsProbe.get(port: port, path: "/readyz", timeout: .seconds(2)).status) ?? 0
}

/// Fills the file system holding `directory` up to `leaving` bytes free (with one file).
func fill(_ directory: String, leaving: Int) throws -> String {
    var info = statvfs()
    guard statvfs(directory, &info) == 0 else { throw HarnessError("statvfs \(directory): errno \(errno)") }
    let free = Int(info.f_bavail) * Int(info.f_frsize)
    let path = directory + "/filler"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw HarnessError("open \(path): errno \(errno)") }
    defer { close(fd) }
    let chunk = [UInt8](repeating: 0xAB, count: 64 << 10)
    var remaining = max(0, free - leaving)
    while remaining > 0 {
        let count = chunk.withUnsafeBytes { write(fd, $0.baseAddress, min($0.count, remaining)) }
        guard count > 0 else { break }
        remaining -= count
    }
    return path
}
