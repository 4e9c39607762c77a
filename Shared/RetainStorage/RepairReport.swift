/// What ``StorageInspector/repair(directory:logger:)`` did.
public struct RepairReport: Sendable, CustomStringConvertible {
    /// The data directory repaired.
    public var directory: String
    /// Where copies of everything dropped were put (`nil` if nothing was dropped).
    public var quarantine: String?
    /// Each step taken, in order, in words.
    public var actions: [String] = []
    /// The last sequence recovery will reach after the repair.
    public var lastSequence: UInt64 = 0

    /// Whether the directory needed no repair.
    public var nothingToRepair: Bool { actions.isEmpty }

    public var description: String {
        guard !actions.isEmpty else {
            return "\(directory): nothing to repair; recovery reaches sequence \(lastSequence)"
        }
        var lines = ["repaired \(directory):"]
        lines += actions.map { "  - " + $0 }
        if let quarantine { lines.append("copies of everything dropped are in \(quarantine)") }
        lines.append("recovery now reaches sequence \(lastSequence)")
        return lines.joined(separator: "\n")
    }
}
