import RetainState
public import RetainProto

extension FeedbackState {
    /// GetFeedbackStats. "Open" is the current status; "overdue" is judged at `as_of_ms` (now
    /// when 0). Resolution figures count every resolution in the range (an item resolved,
    /// reopened and resolved again counts twice), each timed from submission or the reopening
    /// before it. The range defaults to the 30 days before now.
    public func stats(_ request: Retain_V1_GetFeedbackStatsRequest, nowMs: Int64) -> Retain_V1_GetFeedbackStatsResponse {
        let asOf = request.asOfMs != 0 ? request.asOfMs : nowMs
        let from: Int64
        let before: Int64
        if let range = request.range, range.startMs != 0 || range.endMs != 0 {
            from = range.startMs != 0 ? range.startMs : .min
            before = range.endMs != 0 ? range.endMs : .max
        } else {
            from = nowMs - 30 * 86_400_000
            before = .max
        }
        let teamFilter: Set<UInt32>? = request.teams.isEmpty ? nil : Set(request.teams.compactMap { teams.symbol($0) })
        var response = Retain_V1_GetFeedbackStatsResponse()

        // Open and overdue per (team, priority).
        var overdue: [UInt64: Int] = [:]
        var walker = indexes.openByDue.walk(from: nil, ascending: true)
        let end = DueKey(dueAtMs: asOf, sequence: 0)
        while let key = walker.next(), key < end {
            if teamFilter?.contains(key.team) == false { continue }
            overdue[FeedbackIndexes.openCountKey(team: key.team, priority: key.priority), default: 0] += 1
        }
        var rows: [Retain_V1_FeedbackOpenCount] = []
        for (countKey, count) in indexes.openCounts {
            let team = UInt32(countKey >> 8)
            if let teamFilter, !teamFilter.contains(team) { continue }
            rows.append(
                Retain_V1_FeedbackOpenCount(
                    team: teams[team], priority: .init(rawValue: Int32(countKey & 0xff)), count: UInt64(count),
                    overdue: UInt64(overdue[countKey] ?? 0)))
        }
        rows.sort { $0.team != $1.team ? $0.team < $1.team : $0.priority.rawValue < $1.priority.rawValue }
        response.openByTeam = rows
        response.openTotal = rows.reduce(0) { $0 + $1.count }
        response.overdueTotal = rows.reduce(0) { $0 + $1.overdue }

        // Resolutions in the range.
        var times: [Int64] = []
        var resolutions = indexes.resolutions.walk(
            from: ResolutionFact(resolvedAtMs: from, timeToResolveMs: 0, sequence: 0, team: 0, ordinal: 0, breached: false),
            ascending: true)
        while let fact = resolutions.next(), fact.resolvedAtMs < before {
            if teamFilter?.contains(fact.team) == false { continue }
            times.append(fact.timeToResolveMs)
            if fact.breached { response.breachedCount += 1 }
        }
        response.resolvedCount = UInt64(times.count)
        if !times.isEmpty {
            response.slaBreachRate = Double(response.breachedCount) / Double(times.count)
            response.totalTimeToResolveMs = times.reduce(0, +)
            response.meanTimeToResolveMs = response.totalTimeToResolveMs / Int64(times.count)
            response.medianTimeToResolveMs = Self.median(&times)
        }

        // Submissions in the range, per kind.
        var byKind = [Retain_V1_FeedbackKind.suggestion, .complaint, .bug, .question].map { Retain_V1_FeedbackKindCount(kind: $0) }
        let lower = CreationKey(createdAtMs: from, sequence: 0)
        guard let teamFilter else {
            // Counted from the per-kind indexes by rank, without reading items.
            let upper = CreationKey(createdAtMs: before, sequence: 0)
            for index in byKind.indices {
                let total = indexes.byKind[index + 1].count(from: lower, below: upper)
                let done = indexes.byKindDone[index + 1].count(from: lower, below: upper)
                byKind[index].total = UInt64(total)
                byKind[index].doneCount = UInt64(done)
                byKind[index].openCount = UInt64(total - done)
            }
            response.submittedByKind = byKind
            return response
        }
        let lists = teamFilter.sorted().map { FeedbackIndexes.list(indexes.byTeam, $0) }
        var submissions = MergedWalker(lists.map { $0.walk(from: lower, ascending: true) }, ascending: true)
        while let key = submissions.next(), key.createdAtMs < before {
            let item = items[Int(key.sequence)]
            let index = Int(item.kind) - 1
            guard byKind.indices.contains(index) else { continue }
            byKind[index].total += 1
            if item.isOpen { byKind[index].openCount += 1 } else { byKind[index].doneCount += 1 }
        }
        response.submittedByKind = byKind
        return response
    }

    /// The median of `values` (the mean of the two middle ones for an even count), by
    /// quickselect: linear time, reorders `values`.
    static func median(_ values: inout [Int64]) -> Int64 {
        let middle = values.count / 2
        let upper = select(&values, middle)
        guard values.count % 2 == 0 else { return upper }
        let lower = values[..<middle].max() ?? upper
        return lower + (upper - lower) / 2
    }

    /// Puts the `k`-th smallest value at index `k` (everything before it is not larger) and
    /// returns it. Deterministic middle pivots.
    private static func select(_ values: inout [Int64], _ k: Int) -> Int64 {
        var low = 0
        var high = values.count - 1
        while low < high {
            let pivot = values[low + (high - low) / 2]
            var left = low
            var right = high
            while left <= right {
                while values[left] < pivot { left += 1 }
                while values[right] > pivot { right -= 1 }
                if left <= right {
                    values.swapAt(left, right)
                    left += 1
                    right -= 1
                }
            }
            if k <= right { high = right } else if k >= left { low = left } else { break }
        }
        return values[k]
    }
}
