import Foundation

/// Reads a process's memory figures from /proc/<pid>/status.
enum ProcessStatus {
    /// VmRSS (resident now) and VmHWM (peak resident), in bytes.
    static func memory(pid: Int32) -> (resident: Int, peak: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
                let number = line.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
                return number * 1024
            }
            return 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}
