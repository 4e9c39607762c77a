public import RetainProto
import RetainMoves
import RetainRuleSets

/// Keep-up reviews (保级, docs/GROWTH.md#keep-up-and-downgrade): when the rules give a tier a
/// `keep_growth` and a review window, a user in that tier is reviewed one window after reaching
/// the tier or after the last review (never before the reviewing rules came into force). The
/// user keeps the tier when the growth earned within the window ending at the review reaches
/// `keep_growth`; otherwise moves down one tier, and the total is lowered to that tier's minimum
/// (a history record of kind REVIEW), so that the level stays the tier of the total everywhere
/// (as-of answers, leaderboards, distributions).
///
/// Reviews are decided by a sweep (``planLevelReviews(now:fallback:limit:)``) and logged; each
/// is decided at its own due time from the user's history, so a late sweep decides the same.
extension GrowthState {
    /// At most this many reviews of one user are decided by one sweep.
    static let reviewsPerUserAndSweep = 24

    /// The sweep's entry: every review due at or before `now`, users in table order, at most
    /// `limit` reviews (the rest at the next sweep); nil when none is due.
    public func planLevelReviews(now: Int64, fallback: GrowthRules, limit: Int = 10_000) -> Retain_V1_GrowthLogEntry? {
        let rules = rules(now: now, fallback: fallback)
        guard let window = rules.reviewWindowMs else { return nil }
        let since = reviewsStartMs(now: now, fallback: fallback)
        var reviews: [Retain_V1_GrowthLevelReview] = []
        for (userID, user) in users {
            guard reviews.count < limit else { break }
            // A user fenced for a move changes nowhere until the move ends (the new owner reviews).
            guard !fences.contains(userID) else { continue }
            reviews += Self.dueReviews(userID, user, rules: rules, window: window, since: since, now: now)
        }
        guard !reviews.isEmpty else { return nil }
        return Retain_V1_GrowthLogEntry(levelReviews: Retain_V1_GrowthLevelReviews(atMs: now, reviews: reviews))
    }

    /// Since when tiers have been reviewed: the start of the run of rule-set versions that
    /// review, up to the one in force at `now` (0 with the file's rules alone).
    func reviewsStartMs(now: Int64, fallback: GrowthRules) -> Int64 {
        if ruleSets.isEmpty { return fallback.reviewWindowMs == nil ? .max : 0 }
        return ruleSets.runStart(at: ruleSets.decisionTime(now: now)) { $0.reviewWindowMs != nil } ?? .max
    }

    /// When `user`'s tier is reviewed next (nil when it is not reviewed): one window after the
    /// latest of reaching the level, the last review and `since`.
    static func nextReview(_ user: UserGrowth, level: UInt32, rules: GrowthRules, window: Int64, since: Int64) -> Int64? {
        guard rules.keepGrowth(level: level) != nil, since != .max else { return nil }
        let reached = user.levelChanges.last?.atMs ?? user.reachedAtMs
        return max(reached, user.reviewedAtMs, since) + window
    }

    /// Growth earned (awards and check-ins) in `(end - window, end]`.
    static func windowGrowth(_ user: UserGrowth, endingAt end: Int64, window: Int64) -> Int64 {
        growth(user, after: end - window, upTo: end)
    }

    /// Growth earned (awards and check-ins) in `(start, end]`.
    static func growth(_ user: UserGrowth, after start: Int64, upTo end: Int64) -> Int64 {
        var growth: Int64 = 0
        for record in user.history[user.historyIndex(from: start + 1)...] {
            guard record.atMs <= end else { break }
            if record.kind == .award || record.kind == .checkIn { growth += record.growth }
        }
        return growth
    }

    /// The reviews of one user due at or before `now`, in order.
    static func dueReviews(
        _ userID: String, _ user: UserGrowth, rules: GrowthRules, window: Int64, since: Int64, now: Int64
    ) -> [Retain_V1_GrowthLevelReview] {
        var reviews: [Retain_V1_GrowthLevelReview] = []
        var level = user.level
        var reviewed = user
        var deducted: Int64 = 0
        while reviews.count < reviewsPerUserAndSweep, let keep = rules.keepGrowth(level: level),
            let due = nextReview(reviewed, level: level, rules: rules, window: window, since: since), due <= now
        {
            let earned = windowGrowth(user, endingAt: due, window: window)
            var review = Retain_V1_GrowthLevelReview(
                userId: userID, reviewAtMs: due, fromLevel: level, toLevel: level, windowGrowth: earned,
                toLevelName: rules.tier(level: level).name)
            if earned < keep {
                // The total at the review (growth after it stays), lowered to the tier below's minimum.
                var after: Int64 = 0
                for record in user.history[user.historyIndex(from: due + 1)...] { after += record.growth }
                let totalThen = user.total - deducted - after
                let floor = rules.tiers[Int(level) - 2].minGrowth
                review.toLevel = level - 1
                review.toLevelName = rules.tier(level: level - 1).name
                review.deductedGrowth = max(0, totalThen - floor)
                deducted += review.deductedGrowth
                level -= 1
            }
            reviewed.reviewedAtMs = due
            reviews.append(review)
        }
        return reviews
    }

    /// Applies a sweep's reviews: the review time, and for a downgrade the growth taken (a
    /// REVIEW history record at the review time), the board and the level (a level-change event
    /// caused by "review").
    mutating func apply(_ entry: Retain_V1_GrowthLevelReviews) throws {
        for review in entry.reviews {
            // Fenced or moved away after the sweep read the state: left to the user's new owner.
            guard !fences.contains(review.userId), users[review.userId] != nil else { continue }
            guard review.deductedGrowth >= 0 else {
                throw GrowthError.malformedEntry("a review of user '\(review.userId)' with negative growth")
            }
            var user = users.take(review.userId)
            defer { users.put(review.userId, user) }
            user.reviewedAtMs = max(user.reviewedAtMs, review.reviewAtMs)
            guard review.toLevel < review.fromLevel else { continue }
            let oldKey = user.boardKey(review.userId)
            user.total -= review.deductedGrowth
            user.record(
                Retain_V1_GrowthHistoryRecord(
                    atMs: review.reviewAtMs, kind: .review, action: Self.reviewCause, growth: -review.deductedGrowth))
            recordLevel(
                review.toLevel, name: review.toLevelName, of: &user, userID: review.userId, at: review.reviewAtMs,
                loggedAt: entry.atMs, cause: Self.reviewCause, key: "review:\(review.reviewAtMs)", announceLower: true)
            overall.update(from: oldKey, to: user.boardKey(review.userId))
        }
    }

    /// The cause of a keep-up downgrade in level-change events and history.
    public static let reviewCause = "review"

    /// A user's next review as GetGrowthView shows it, or nil when the user's tier is not
    /// reviewed.
    func reviewView(_ user: UserGrowth, at ms: Int64, rules: GrowthRules, fallback: GrowthRules) -> Retain_V1_LevelReview? {
        guard let window = rules.reviewWindowMs, let keep = rules.keepGrowth(level: user.level),
            let due = Self.nextReview(
                user, level: user.level, rules: rules, window: window, since: reviewsStartMs(now: ms, fallback: fallback))
        else { return nil }
        let earned = Self.growth(user, after: due - window, upTo: min(due, ms))
        return Retain_V1_LevelReview(
            nextReviewAtMs: due, keepGrowth: keep, windowGrowth: earned, growthToKeep: max(0, keep - earned),
            windowDays: UInt32(window / 86_400_000))
    }
}
