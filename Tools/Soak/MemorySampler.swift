import RetainLauncher
import RetainProcess
import Synchronization

/// Samples the resident memory of every member of the suite over the run, so that a leak (or
/// unbounded buffering) shows as a rising line.
final class MemorySampler: Sendable {
    /// One member's samples, in bytes, oldest first (a restarted member starts again small).
    struct Series: Sendable {
        var samples: [Int] = []

        /// The first, middle and last sample, and the largest.
        var start: Int { samples.first ?? 0 }
        var middle: Int { samples.isEmpty ? 0 : samples[samples.count / 2] }
        var end: Int { samples.last ?? 0 }
        var peak: Int { samples.max() ?? 0 }
    }

    private let series = Mutex<[String: Series]>([:])

    /// Takes one sample of each member that is running.
    func sample(_ suite: LocalSuite) {
        for member in suite.members {
            guard let pid = suite.pid(of: member), let bytes = ProcessMemory.residentBytes(of: pid) else { continue }
            series.withLock { $0[member.name, default: Series()].samples.append(bytes) }
        }
    }

    /// Every member's samples so far.
    var all: [String: Series] { series.withLock { $0 } }
}
