import RetainState
public import RetainProto

extension ProfileState {
    /// One page of the users at CHURN_RISK as of `asOf`, largest activity drop first, then by
    /// user id.
    ///
    /// - Parameters:
    ///   - channels: Only users from these acquisition channels; empty for all.
    ///   - minimumDrop: Only warnings whose drop is at least this.
    ///   - pageSize: Warnings per page (validated: 1 to 1000).
    ///   - pageToken: The previous page's token, or "".
    ///   - asOf: The as-of time of a first page, nil for `now` (later pages use their token's).
    ///   - byScan: Evaluate every user instead of reading the cached stages (``StageCache``) and
    ///     evaluating only the users at churn risk: the reference the cache is tested against.
    public func churnWarnings(
        channels: [String], minimumDrop: Double, pageSize: Int, pageToken: String, asOf requestedAsOf: Int64?,
        now: Int64, evaluator: LifecycleEvaluator, byScan: Bool = false
    ) throws(ProfileError) -> Retain_V1_ListChurnWarningsResponse {
        var hasher = StableHash()
        for channel in Set(channels).sorted() { hasher.combine(channel) }
        hasher.combine(minimumDrop.bitPattern)
        let queryHash = hasher.value
        let (asOf, position) = try PageToken.resume(
            pageToken, kind: "c", queryHash: queryHash, requestedAsOf: requestedAsOf, now: now)
        var cursor: (drop: Double, id: String)?
        if let position {
            let parts = position.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let bits = UInt64(parts[0], radix: 16) else {
                throw ProfileError.invalid(field: "page.page_token", reason: "malformed page token")
            }
            cursor = (Double(bitPattern: bits), String(parts[1]))
        }
        var allowed: [Bool]?
        if !channels.isEmpty {
            var flags = [Bool](repeating: false, count: symbols.count)
            for name in channels { if let symbol = symbols.symbol(name) { flags[Int(symbol)] = true } }
            allowed = flags
        }
        let day = calendar.day(of: asOf)
        /// Whether a comes before b: larger drop first, then smaller id.
        func precedes(_ a: (drop: Double, id: String), _ b: (drop: Double, id: String)) -> Bool {
            a.drop != b.drop ? a.drop > b.drop : a.id < b.id
        }
        var total: UInt64 = 0
        var remaining = 0
        var page: [(drop: Double, id: String, index: Int32)] = []
        /// Counts a warning and keeps it when it belongs on this page.
        func consider(_ user: UnsafePointer<UserRecord>, index: Int, drop: Double) {
            guard drop >= minimumDrop else { return }
            total += 1
            let key = (drop: drop, id: user.pointee.id)
            if let cursor, !precedes(cursor, key) { return }
            remaining += 1
            if page.count == pageSize, let last = page.last, !precedes(key, (last.drop, last.id)) { return }
            var low = 0
            var high = page.count
            while low < high {
                let middle = (low + high) >> 1
                if precedes((page[middle].drop, page[middle].id), key) { low = middle + 1 } else { high = middle }
            }
            page.insert((drop, key.id, Int32(index)), at: low)
            if page.count > pageSize { page.removeLast() }
        }
        func selected(_ user: UnsafePointer<UserRecord>) -> Bool {
            guard user.pointee.deletedAtMs == 0, user.pointee.registeredAtMs <= asOf else { return false }
            if let allowed, !allowed[Int(user.pointee.channel)] { return false }
            return true
        }
        let churnRisk = UInt8(Retain_V1_LifecycleStage.churnRisk.rawValue)
        if byScan {
            users.forEachChunk { first, chunk in
                let base = chunk.baseAddress!
                for offset in 0..<chunk.count where selected(base + offset) {
                    let evaluation = evaluator.evaluate(base[offset].activity, day: day, dayIsOver: false)
                    guard evaluation.stage == .churnRisk else { continue }
                    consider(base + offset, index: first + offset, drop: evaluation.figures.drop)
                }
            }
        } else {
            // The cached stages and drops: a byte per user read, and only the users at churn
            // risk (about a tenth) touched and none evaluated.
            let (stages, drops) = stageCache.stagesAndDrops(day: day, evaluator: evaluator, users: users)
            stages.withUnsafeBufferPointer { stages in
                for index in stages.indices where stages[index] == churnRisk {
                    users.withPointer(index) { user in
                        if selected(user) { consider(user, index: index, drop: drops[index]) }
                    }
                }
            }
        }
        var next = ""
        if remaining > page.count, let last = page.last {
            next =
                PageToken(
                    kind: "c", queryHash: queryHash, asOf: asOf,
                    cursor: "\(String(last.drop.bitPattern, radix: 16)):\(last.id)"
                ).encoded
        }
        let warnings = page.map { item in
            let user = users[Int(item.index)]
            let evaluation = evaluator.evaluate(user.activity, day: day, dayIsOver: false)
            let since = evaluator.sinceDay(user.activity, stage: .churnRisk, day: day)
            return Retain_V1_ChurnWarning(
                userId: item.id, reason: evaluation.churnReason, reasonText: evaluation.reason,
                recentRate: evaluation.figures.recentRate, baselineRate: evaluation.figures.baselineRate,
                drop: item.drop, lastActiveMs: user.activity.lastActive(asOf: asOf, calendar: calendar),
                sinceMs: calendar.startOfDay(since), channel: symbols[user.channel])
        }
        return Retain_V1_ListChurnWarningsResponse(
            warnings: warnings, pageInfo: Retain_V1_PageInfo(nextPageToken: next, total: total))
    }
}
