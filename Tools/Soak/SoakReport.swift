import Foundation
import RetainLauncher

/// What a soak run did and found, and its summary as text.
public struct SoakReport: Sendable {
    /// One injected fault.
    public struct InjectedFault: Sendable {
        /// Seconds into the run.
        public let at: Double
        /// What was done.
        public let description: String
        /// Seconds until the member listened again (0 for a connection cut; the pause, for a
        /// paused leader).
        public let recovery: Double
        /// Seconds from the fault to the first write sent after it that was answered OK (of the
        /// service it hit; of any, for the gateway and connection cuts): the failover time for a
        /// leader's loss. Nil when none was before the load ended.
        public let failover: Double?
        /// Whether it took a shard's leader away (killed or paused it).
        public let tookLeader: Bool
        /// Why it could not be injected, if so.
        public let error: String?
    }

    /// Members per shard (a replicated suite), or nil (one process per service).
    public let replicas: Int?
    /// The suite's processes in start order (`ledger`, or `ledger-0-a`, ..., `gateway`).
    public let members: [String]
    /// Seconds of load.
    public let seconds: Double
    /// Calls per kind and status (retries counted one by one).
    public let calls: [String: [String: Int]]
    /// The faults, in order.
    public let faults: [InjectedFault]
    /// Writes whose answer was lost and that were sent again after the load.
    public let unsettledAtEnd: Int
    /// Of those, writes still unanswered.
    public let unresolved: Int
    /// Acknowledged writes checked, per kind.
    public let checked: [String: Int]
    /// Acknowledged writes missing from the state.
    public let lost: [String]
    /// Writes applied more often than acknowledged (re-sends included).
    public let duplicated: [String]
    /// Checks that could not read the state.
    public let unreadable: [String]
    /// Re-sends of acknowledged transfers answered as replays.
    public let confirmedReplays: Int
    /// Resident memory samples per member, in bytes.
    public let memory: [String: (start: Int, middle: Int, end: Int, peak: Int, samples: Int)]
    /// Restarts per member.
    public let restarts: [String: Int]
    /// Exit status of each member at the final SIGTERM.
    public let exitStatuses: [String: Int32]

    /// True when no acknowledged write was lost or duplicated and everything could be checked.
    public var passed: Bool { lost.isEmpty && duplicated.isEmpty && unreadable.isEmpty }

    /// The summary: calls, faults, verification, memory.
    public var text: String {
        var lines: [String] = []
        let statuses = Array(Set(calls.values.flatMap(\.keys))).sorted { $0 == "OK" ? true : ($1 == "OK" ? false : $0 < $1) }
        var rows = [["calls", "total"] + statuses]
        for kind in calls.keys.sorted() where !kind.hasPrefix("verify.") {
            let counts = calls[kind]!
            rows.append([kind, String(counts.values.reduce(0, +))] + statuses.map { String(counts[$0] ?? 0) })
        }
        let all = calls.filter { !$0.key.hasPrefix("verify.") }.values
        rows.append(
            ["all", String(all.flatMap(\.values).reduce(0, +))]
                + statuses.map { status in String(all.reduce(0) { $0 + ($1[status] ?? 0) }) })
        lines.append(
            String(
                format: "retain soak: %.0f s of mixed load, %d calls (%.0f/s)", seconds,
                Int(rows.last![1])!, Double(rows.last![1])! / max(seconds, 1)))
        lines += Self.table(rows)
        lines.append("")
        lines.append("faults injected: \(faults.count)" + (replicas.map { " (replicated suite: \($0) members per service's shard)" } ?? ""))
        lines += Self.table(
            [["at", "fault", "back after", "next write OK after"]]
                + faults.map { fault in
                    [
                        String(format: "%.1f s", fault.at), fault.description,
                        fault.error.map { "FAILED: \($0)" } ?? String(format: "%.2f s", fault.recovery),
                        fault.failover.map { String(format: "%.2f s", $0) } ?? "-",
                    ]
                })
        let failovers = faults.filter(\.tookLeader).compactMap(\.failover)
        if let worst = failovers.max() {
            lines.append(
                String(
                    format: "failover (leader fault to the next write answered OK): %d, median %.2f s, max %.2f s",
                    failovers.count, failovers.sorted()[failovers.count / 2], worst))
        }
        lines.append("")
        lines.append("writes answered late and sent again after the load: \(unsettledAtEnd) (still unanswered: \(unresolved))")
        lines.append("re-sent acknowledged transfers answered as replays: \(confirmedReplays)")
        lines.append(
            "verification: " + (passed ? "PASSED" : "FAILED")
                + " (" + checked.keys.sorted().map { "\($0) \(checked[$0]!)" }.joined(separator: ", ") + ")")
        for (label, problems) in [("lost", lost), ("duplicated", duplicated), ("unreadable", unreadable)] where !problems.isEmpty {
            lines.append("  \(label): \(problems.count): " + problems.prefix(10).joined(separator: "; "))
        }
        lines.append("")
        lines.append("resident memory (MiB; a restarted process reloads its state; services keep their state in memory,")
        lines.append("so their growth per acknowledged write held is the figure to watch; the gateway holds none)")
        lines += Self.table(
            [["process", "start", "middle", "end", "peak", "samples", "restarts", "exit", "writes held", "KiB/write"]]
                + members.map { name in
                    let series = memory[name] ?? (0, 0, 0, 0, 0)
                    let service = name.prefix { $0 != "-" }
                    let held = checked.filter { $0.key.hasPrefix(service + ".") }.values.reduce(0, +)
                    let perWrite = held == 0 ? "-" : String(format: "%.2f", Double(series.end - series.start) / 1024 / Double(held))
                    return [name]
                        + [series.start, series.middle, series.end, series.peak].map { String(format: "%.1f", Double($0) / 1_048_576) }
                        + [
                            String(series.samples), String(restarts[name] ?? 0), exitStatuses[name].map(String.init) ?? "-",
                            held == 0 ? "-" : String(held), perWrite,
                        ]
                })
        return lines.joined(separator: "\n")
    }

    private static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map {
                $0.offset == 0
                    ? $0.element.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element
            }
            .joined(separator: "  ")
        }.map { "  " + $0 }
    }
}
