import RetainState

/// A leaderboard's keys gathered in any order while a snapshot is restored, sorted in runs as
/// they come: each run of ``runLength`` keys (``GrowthState/boardRunLength``) is sorted on a thread of its own (a
/// ``RestoreWorker``) while the restore reads on, so that what is left once the last key is in
/// is a merge of sorted runs (the standard library's sort finds the runs and merges them: at
/// a million keys about a quarter of a whole sort) instead of a sort of the whole board.
struct SortedKeyRuns: Sendable {
    /// Keys per run by default. 131,072 (4 MiB of keys).
    static let defaultRunLength = 1 << 17

    /// Keys per run.
    let runLength: Int
    /// The run being filled.
    private var current: [LeaderboardKey] = []
    /// The full runs, each being sorted or sorted.
    private var runs: [RestoreWorker<[LeaderboardKey]>] = []

    /// An empty board's keys, sorted in runs of `runLength`.
    init(runLength: Int = GrowthState.boardRunLength) {
        precondition(runLength > 0, "runs of \(runLength) keys")
        self.runLength = runLength
    }

    /// Keys added.
    var count: Int { runs.count * runLength + current.count }

    /// Adds a key; a full run goes to a thread to be sorted.
    mutating func append(_ key: LeaderboardKey) {
        if current.isEmpty { current.reserveCapacity(runLength) }
        current.append(key)
        if current.count == runLength {
            var full: [LeaderboardKey] = []
            swap(&full, &current)
            runs.append(RestoreWorker(full) { run in Self.sorted(run) })
        }
    }

    /// Every key added, in order.
    consuming func sorted() -> [LeaderboardKey] {
        var last: [LeaderboardKey] = []
        swap(&last, &current)
        guard !runs.isEmpty else { return Self.sorted(last) }
        var all: [LeaderboardKey] = []
        all.reserveCapacity(count)
        for run in runs { all.append(contentsOf: run.join()) }
        runs = []
        all.append(contentsOf: Self.sorted(last))
        all.sort()
        return all
    }

    private static func sorted(_ keys: consuming [LeaderboardKey]) -> [LeaderboardKey] {
        keys.sort()
        return keys
    }
}
