public import RetainProto

extension GrowthState {
    /// A user's growth view at `ms`: total, tier and next tier with the distance to it, streak,
    /// recent check-ins, tasks, and today's and this week's growth. A user without growth gets
    /// the lowest tier and zeros.
    public func view(
        userID: String, timeZone: String, at ms: Int64, rules: GrowthRules, fallback: GrowthRules? = nil
    ) -> Retain_V1_GetGrowthViewResponse {
        let user = users[userID]
        let total = user?.total ?? 0
        let index = rules.tierIndex(for: total)
        let tier = rules.tiers[index]
        let next = index + 1 < rules.tiers.count ? rules.tiers[index + 1] : nil
        var view = Retain_V1_GetGrowthViewResponse(totalGrowth: total, level: tier, nextLevel: next)
        if let next {
            view.growthToNext = next.minGrowth - total
            view.progressToNext = Double(total - tier.minGrowth) / Double(next.minGrowth - tier.minGrowth)
        } else {
            view.progressToNext = 1
        }
        view.tasks = tasks(userID: userID, timeZone: timeZone, at: ms, rules: rules)
        guard let user else { return view }
        let zone = zone(timeZone, of: user)
        let today = zone.day(at: ms)
        if user.streak > 0, user.lastCheckInDay == today || user.lastCheckInDay == today - 1 {
            view.streakDays = user.streak
        }
        view.checkedInToday = user.streak > 0 && user.lastCheckInDay == today
        view.longestStreak = user.longestStreak
        var days: [Int32] = []
        for record in user.history[user.historyIndex(from: ms - 33 * 86_400_000)...]
        where record.kind == .checkIn && record.localDay > today - 31 && record.localDay <= today {
            days.append(record.localDay)
        }
        view.recentCheckInDates = Array(Set(days)).sorted().map(CivilDate.string)
        view.todayGrowth = user.counter(day: today)?.allGrowth ?? 0
        view.weekGrowth = user.weekScore(CivilDate.monday(of: CivilDate.utcDay(ms: ms)))?.score ?? 0
        if let review = reviewView(user, at: ms, rules: rules, fallback: fallback ?? rules) { view.review = review }
        return view
    }

    /// What a user earned in `[startMs, endMs)`: growth by action, check-in days and the longest
    /// streak among them (local days in `timeZone`), tasks finished and claimed, levels at both
    /// ends and the level changes between. History older than the retention counts only in
    /// the totals.
    public func summary(
        userID: String, startMs: Int64, endMs: Int64, timeZone: String,
        rules: GrowthRules
    ) -> Retain_V1_GetGrowthSummaryResponse {
        guard let user = users[userID] else {
            return Retain_V1_GetGrowthSummaryResponse(levelAtStart: 1, levelAtEnd: 1)
        }
        let zone = zone(timeZone, of: user)
        var summary = Retain_V1_GetGrowthSummaryResponse()
        var byAction: [String: (count: UInt64, growth: Int64)] = [:]
        var checkInDays = Set<Int32>()
        var totalAtEnd = user.prunedGrowth
        for record in user.history {
            guard record.atMs < endMs else { break }
            totalAtEnd += record.growth
            guard record.atMs >= startMs else { continue }
            switch record.kind {
            case .award, .checkIn:
                summary.growthEarned += record.growth
                byAction[record.action, default: (0, 0)].count += 1
                byAction[record.action, default: (0, 0)].growth += record.growth
                if record.kind == .checkIn { checkInDays.insert(zone.day(at: record.atMs)) }
            case .taskCompleted:
                summary.tasksCompleted += 1
            case .taskClaimed:
                summary.tasksClaimed += 1
            default:
                break
            }
        }
        summary.byAction =
            byAction
            .map { Retain_V1_ActionGrowth(action: $0.key, count: $0.value.count, growth: $0.value.growth) }
            .sorted { $0.growth != $1.growth ? $0.growth > $1.growth : $0.action < $1.action }
        summary.checkInDays = UInt32(checkInDays.count)
        var longest: UInt32 = 0
        var run: UInt32 = 0
        var previous: Int32?
        for day in checkInDays.sorted() {
            run = previous.map { $0 + 1 == day } == true ? run + 1 : 1
            longest = max(longest, run)
            previous = day
        }
        summary.longestStreak = longest
        summary.levelAtStart = user.levelChanges.last(where: { $0.atMs < startMs })?.toLevel ?? 1
        summary.levelAtEnd = user.levelChanges.last(where: { $0.atMs < endMs })?.toLevel ?? 1
        summary.totalAtEnd = totalAtEnd
        summary.levelChanges = user.levelChanges.filter { $0.atMs >= startMs && $0.atMs < endMs }
        return summary
    }
}

extension GrowthState {
    /// The level and total growth of each user as of `asOf` (nil: now), in order (a user Growth
    /// does not know is at the lowest tier with 0 growth). As of a time, the total less the
    /// growth of the history records after it (exact within the history's retention), and the
    /// tier of that total.
    public func levels(userIDs: [String], asOf: Int64?, rules: GrowthRules) -> [Retain_V1_UserLevel] {
        userIDs.map { id in
            var total: Int64 = 0
            if let user = users[id] {
                total = user.total
                if let asOf {
                    for record in user.history[user.historyIndex(from: asOf + 1)...] { total -= record.growth }
                }
            }
            return Retain_V1_UserLevel(userId: id, level: rules.tiers[rules.tierIndex(for: total)].level, totalGrowth: total)
        }
    }
}
