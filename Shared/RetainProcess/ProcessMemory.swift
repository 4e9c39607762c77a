import Foundation

/// What the kernel says about a process's memory, from `/proc/<pid>/status` (Linux).
public enum ProcessMemory {
    /// The resident set size (`VmRSS`) of process `pid` in bytes, or nil when the process is
    /// gone or the file cannot be read.
    public static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:\t   12345 kB"
            let digits = line.dropFirst("VmRSS:".count).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }
}

extension ServerProcess {
    /// The server's resident set size in bytes, or nil once it has exited.
    public var residentBytes: Int? { ProcessMemory.residentBytes(of: process.processIdentifier) }
}
