/// A line diff of two documents, client side: `-` for a line only in the first, `+` for a line
/// only in the second, `@@ line N` before each run of changes (N counts the second's lines).
enum RuleSetDiff {
    static func lines(from old: [UInt8], to new: [UInt8]) -> [String] {
        let before = String(decoding: old, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = String(decoding: new, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = after.difference(from: before)
        var removed: [Int: String] = [:]
        var inserted: [Int: String] = [:]
        for change in difference {
            switch change {
            case .remove(let offset, let line, _): removed[offset] = line
            case .insert(let offset, let line, _): inserted[offset] = line
            }
        }
        var output: [String] = []
        var oldIndex = 0
        var newIndex = 0
        var inRun = false
        while oldIndex < before.count || newIndex < after.count {
            if let line = removed[oldIndex] {
                if !inRun { output.append("@@ line \(newIndex + 1)") }
                inRun = true
                output.append("-" + line)
                oldIndex += 1
            } else if let line = inserted[newIndex] {
                if !inRun { output.append("@@ line \(newIndex + 1)") }
                inRun = true
                output.append("+" + line)
                newIndex += 1
            } else {
                inRun = false
                oldIndex += 1
                newIndex += 1
            }
        }
        return output
    }
}
