public import RetainProto

extension ReportMerge {
    /// ListFeedback's order for `sort`: newest first (the default), oldest first, by priority
    /// (highest first) then due time, or by due time. Items with equal sort values come in
    /// shard order (the merge keeps each shard's own order).
    public static func feedbackOrder(_ sort: Retain_V1_FeedbackSort) -> @Sendable (Retain_V1_FeedbackItem, Retain_V1_FeedbackItem) -> Bool {
        switch sort {
        case .oldest:
            return { $0.createdAtMs < $1.createdAtMs }
        case .priority:
            return { $0.priority.rawValue != $1.priority.rawValue ? $0.priority.rawValue < $1.priority.rawValue : $0.dueAtMs < $1.dueAtMs }
        case .due:
            return { $0.dueAtMs < $1.dueAtMs }
        default:
            return { $0.createdAtMs > $1.createdAtMs }
        }
    }

    /// ListOverdue's order: earliest due time first.
    public static func overdueOrder(_ lhs: Retain_V1_FeedbackItem, _ rhs: Retain_V1_FeedbackItem) -> Bool {
        lhs.dueAtMs < rhs.dueAtMs
    }

    /// GetFaq's groups over every shard (each shard's every page): groups with the same id (a
    /// hash of category and normalised text, the same on every shard) merge: ask counts add up,
    /// the question, answer, category and latest time come from the shard where the group was
    /// asked last, item ids from the shards in that order (at most 10). Groups asked fewer than
    /// `minAsks` times in all are left out; the rest are ordered most asked first, then latest
    /// asked, then group id.
    public static func faq(_ groupsByShard: [[Retain_V1_FaqEntry]], minAsks: UInt32) -> [Retain_V1_FaqEntry] {
        var byID: [String: [Retain_V1_FaqEntry]] = [:]
        for groups in groupsByShard {
            for group in groups { byID[group.groupId, default: []].append(group) }
        }
        var merged: [Retain_V1_FaqEntry] = []
        for parts in byID.values {
            // Latest asked first; a stable sort keeps shard order among equal times.
            let ordered = parts.enumerated().sorted {
                $0.element.lastAskedMs != $1.element.lastAskedMs ? $0.element.lastAskedMs > $1.element.lastAskedMs : $0.offset < $1.offset
            }.map(\.element)
            var group = ordered[0]
            group.askCount = parts.reduce(0) { $0 + $1.askCount }
            group.itemIds = Array(ordered.flatMap(\.itemIds).prefix(10))
            merged.append(group)
        }
        let minimum = max(minAsks, 1)
        return merged.filter { $0.askCount >= minimum }.sorted {
            if $0.askCount != $1.askCount { return $0.askCount > $1.askCount }
            if $0.lastAskedMs != $1.lastAskedMs { return $0.lastAskedMs > $1.lastAskedMs }
            return $0.groupId < $1.groupId
        }
    }

    /// GetFeedbackStats: open and overdue counts add up per (team, priority) (sorted by team,
    /// then priority) and in total; resolutions, breaches and submissions per kind add up; the
    /// breach rate and the mean time to resolve are recomputed from the sums; the median is the
    /// median of the shards' medians weighted by their resolutions (exact with one shard).
    public static func feedbackStats(_ answers: [Retain_V1_GetFeedbackStatsResponse]) -> Retain_V1_GetFeedbackStatsResponse {
        struct OpenKey: Hashable {
            var team: String
            var priority: Int32
        }
        var open: [OpenKey: Retain_V1_FeedbackOpenCount] = [:]
        var kinds: [Int32: Retain_V1_FeedbackKindCount] = [:]
        var kindOrder: [Int32] = []
        var merged = Retain_V1_GetFeedbackStatsResponse()
        for answer in answers {
            for row in answer.openByTeam {
                let key = OpenKey(team: row.team, priority: row.priority.rawValue)
                var sum = open[key] ?? Retain_V1_FeedbackOpenCount(team: row.team, priority: row.priority)
                sum.count += row.count
                sum.overdue += row.overdue
                open[key] = sum
            }
            for kind in answer.submittedByKind {
                if kinds[kind.kind.rawValue] == nil {
                    kinds[kind.kind.rawValue] = Retain_V1_FeedbackKindCount(kind: kind.kind)
                    kindOrder.append(kind.kind.rawValue)
                }
                kinds[kind.kind.rawValue]!.total += kind.total
                kinds[kind.kind.rawValue]!.openCount += kind.openCount
                kinds[kind.kind.rawValue]!.doneCount += kind.doneCount
            }
            merged.openTotal += answer.openTotal
            merged.overdueTotal += answer.overdueTotal
            merged.resolvedCount += answer.resolvedCount
            merged.breachedCount += answer.breachedCount
            merged.totalTimeToResolveMs += answer.totalTimeToResolveMs
        }
        merged.openByTeam = open.values.sorted {
            $0.team != $1.team ? $0.team < $1.team : $0.priority.rawValue < $1.priority.rawValue
        }
        merged.submittedByKind = kindOrder.map { kinds[$0]! }
        if merged.resolvedCount > 0 {
            merged.slaBreachRate = Double(merged.breachedCount) / Double(merged.resolvedCount)
            merged.meanTimeToResolveMs = merged.totalTimeToResolveMs / Int64(merged.resolvedCount)
            merged.medianTimeToResolveMs = weightedMedian(
                answers.filter { $0.resolvedCount > 0 }
                    .map { ($0.medianTimeToResolveMs, $0.resolvedCount) })
        }
        return merged
    }

    /// The median of values each counted `weight` times (the lower middle one for an even total).
    static func weightedMedian(_ values: [(value: Int64, weight: UInt64)]) -> Int64 {
        let sorted = values.sorted { $0.value < $1.value }
        let total = sorted.reduce(0) { $0 + $1.weight }
        var seen: UInt64 = 0
        for entry in sorted {
            seen += entry.weight
            if seen * 2 >= total { return entry.value }
        }
        return sorted.last?.value ?? 0
    }
}
