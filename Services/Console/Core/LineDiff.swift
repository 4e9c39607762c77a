/// A line diff of two texts (two rule-set documents: canonical JSON, one key per line), from the
/// standard library's `CollectionDifference` (a Myers diff), with long unchanged stretches
/// folded to a few lines of context around each change.
public struct LineDiff: Sendable, Hashable {
    /// One line of the diff.
    public enum Line: Sendable, Hashable {
        /// In both texts.
        case same(String)
        /// Only in the old text.
        case removed(String)
        /// Only in the new text.
        case added(String)
        /// Unchanged lines left out.
        case folded(Int)
    }

    /// The lines, in order.
    public var lines: [Line]

    /// Lines of context kept on each side of a change.
    public static let context = 3

    /// The diff from `old` to `new`.
    public init(old: String, new: String) {
        let before = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let after = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let difference = after.difference(from: before)
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }
        var all: [Line] = []
        var i = 0
        var j = 0
        while i < before.count || j < after.count {
            if i < before.count, removed.contains(i) {
                all.append(.removed(before[i]))
                i += 1
            } else if j < after.count, inserted.contains(j) {
                all.append(.added(after[j]))
                j += 1
            } else {
                all.append(.same(i < before.count ? before[i] : after[j]))
                i += 1
                j += 1
            }
        }
        lines = Self.fold(all)
    }

    /// Whether the texts differ.
    public var changed: Bool {
        lines.contains { if case .same = $0 { false } else if case .folded = $0 { false } else { true } }
    }

    /// Keeps ``context`` unchanged lines around each change and folds the rest.
    static func fold(_ all: [Line]) -> [Line] {
        var keep = [Bool](repeating: false, count: all.count)
        for (index, line) in all.enumerated() {
            if case .same = line { continue }
            for near in max(0, index - context)...min(all.count - 1, index + context) { keep[near] = true }
        }
        var folded: [Line] = []
        var skipped = 0
        for (index, line) in all.enumerated() {
            if keep[index] {
                if skipped > 0 { folded.append(.folded(skipped)) }
                skipped = 0
                folded.append(line)
            } else {
                skipped += 1
            }
        }
        if skipped > 0 { folded.append(.folded(skipped)) }
        return folded
    }
}
