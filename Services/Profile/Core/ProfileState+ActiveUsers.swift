import RetainState
public import RetainProto

/// Active users (DAU, WAU, MAU) and the registration -> activation -> first purchase funnel:
/// counted while events are applied (``ActiveUserCounts``, ``FunnelCounts``), so that reports
/// cost the days they cover, not the users.
extension ProfileState {
    /// Most days one GetActiveUsers answer may hold.
    public static let maximumActiveUserDays = 366

    /// The activation definition the funnel counts follow.
    public var activationRule: ActivationRule { activation }

    // MARK: Counting

    /// Records one event of counter `kind` at `atMs` on local `day` for the user at `userIndex`,
    /// and moves the user in the active-user and funnel counts.
    mutating func recordActivity(_ userIndex: Int32, day: Int32, atMs: Int64, kind: Int) {
        let before = users[Int(userIndex)].activity
        // Bit 31 is `day`: the 31 days before it and the 32 after it are known too.
        let mask = before.activeMask(from: day &- 31)
        let newDay = mask & (1 << 31) == 0
        users[Int(userIndex)].activity.record(day: day, atMs: atMs, kind: kind)
        stageCache.changed(userIndex)
        let channel = users[Int(userIndex)].channel
        let dayN = Int(day) - Int(before.registrationDay)
        if !users[Int(userIndex)].isDeleted {
            let after = users[Int(userIndex)].activity
            retentionCounts.returned(
                registrationDay: before.registrationDay, channel: channel, day: dayN,
                active: !before.retained(onDay: dayN) && after.retained(onDay: dayN),
                loggedIn: !before.loggedIn(onDay: dayN) && after.loggedIn(onDay: dayN))
        }
        if newDay {
            let earlier = mask & ((1 << 31) - 1)
            let later = mask >> 32
            activeUsers.addActiveDay(
                day, channel: channel,
                previous: earlier == 0 ? nil : day - 31 + Int32(63 - earlier.leadingZeroBitCount),
                next: later == 0 ? nil : day + 1 + Int32(later.trailingZeroBitCount))
        }
        let sinceRegistration = Int64(day) - Int64(before.registrationDay)
        let mayActivate = newDay && sinceRegistration >= 0 && sinceRegistration < Int64(activation.withinDays)
        let firstPurchase = kind == ActivityKind.purchase && before.kindCounts[ActivityKind.purchase] == 0
        if mayActivate || firstPurchase {
            funnel.move(
                channel: channel, registrationDay: before.registrationDay, from: activation.stage(before),
                to: activation.stage(users[Int(userIndex)].activity))
        }
    }

    /// Counts a user who was just registered (or restored) in the funnel.
    mutating func countInFunnel(_ userIndex: Int32) {
        let rule = activation
        let (deleted, channel, day, stage) = users.withPointer(Int(userIndex)) { user in
            (
                user.pointee.deletedAtMs != 0, user.pointee.channel, user.pointee.activity.registrationDay,
                rule.stage(user.pointee.activity)
            )
        }
        guard !deleted else { return }
        funnel.move(channel: channel, registrationDay: day, from: nil, to: stage)
    }

    /// Takes a user who is being deleted out of the funnel (their activity stays counted in the
    /// active users of the days it happened).
    mutating func removeFromFunnel(_ userIndex: Int32) {
        let user = users[Int(userIndex)]
        funnel.move(
            channel: user.channel, registrationDay: user.activity.registrationDay, from: activation.stage(user.activity), to: nil)
    }

    /// Counts the funnel again from every user (a new activation definition, a restored snapshot).
    mutating func rebuildFunnel() {
        funnel.removeAll()
        for index in 0..<users.count { countInFunnel(Int32(index)) }
    }

    /// Counts the active users again from the activity summaries, for a snapshot written before
    /// they were kept: exact for the days the summaries know (the 256 days ending on each user's
    /// latest active day and the first 384 days after registration), older days only partly.
    mutating func rebuildActiveUsers() {
        activeUsers.removeAll()
        for index in 0..<users.count { countActiveDays(of: users[index], delta: 1) }
    }

    /// Adds (`delta` 1) or takes out (-1) the active days a user's summary knows. A user moving
    /// between shards is taken out at the source and added at the new owner by the same days, so
    /// the counts summed over the shards stay what they were (days older than the summary knows
    /// stay counted at the source).
    mutating func countActiveDays(of user: UserRecord, delta: Int32) {
        let activity = user.activity
        guard activity.hasActivity else { return }
        var low = min(activity.registrationDay, activity.headDay - Int32(ActivitySummary.windowDays) + 1)
        if activity.olderActiveDay != ActivitySummary.noDay { low = min(low, activity.olderActiveDay) }
        let high = max(activity.headDay, activity.registrationDay + Int32(ActivitySummary.retentionDays) - 1)
        var previous: Int32?
        var start = low
        while start <= high {
            var mask = activity.activeMask(from: start)
            while mask != 0 {
                let day = start + Int32(mask.trailingZeroBitCount)
                mask &= mask - 1
                guard day <= high else { break }
                activeUsers.addActiveDay(day, channel: user.channel, previous: previous, next: nil, delta: delta)
                previous = day
            }
            start += 64
        }
    }

    // MARK: Reports

    /// Refuses a report zone other than the activity zone (the only one whose days are counted).
    private func requireActivityZone(_ requested: String) throws(ProfileError) {
        let zone = requested.isEmpty ? "UTC" : requested
        guard zone == settings.activityTimeZone else {
            throw ProfileError.invalid(
                field: "time_zone",
                reason: "activity days are kept in \(settings.activityTimeZone) (the service's activity_time_zone); "
                    + "reports can be made in that zone only, not \(zone)")
        }
    }

    /// The channel symbols a report covers: the ones asked for that exist, or every one with
    /// counts; and the names asked for that no user has.
    private func reportChannels(_ requested: [String], counted: [Int32]) -> (symbols: [Int32], unknown: [String]) {
        guard !requested.isEmpty else { return (counted, []) }
        var found: [Int32] = []
        var unknown: [String] = []
        for name in Set(requested) {
            if let symbol = symbols.symbol(name) { found.append(symbol) } else { unknown.append(name) }
        }
        return (found, unknown)
    }

    /// DAU, WAU and MAU for each local day of the request's range, for all (requested) channels
    /// and, with `by_channel`, per channel; `complete` for the days that ended before `asOf`'s day.
    public func activeUsers(
        _ request: Retain_V1_GetActiveUsersRequest, asOf: Int64
    ) throws(ProfileError)
        -> Retain_V1_GetActiveUsersResponse
    {
        try requireActivityZone(request.timeZone)
        guard let range = request.range, range.startMs > 0, range.endMs > range.startMs else {
            throw ProfileError.invalid(field: "range", reason: "both start_ms and end_ms are required, end after start")
        }
        let first = calendar.day(of: range.startMs)
        let last = calendar.day(of: range.endMs - 1)
        let dayCount = Int(last - first) + 1
        guard dayCount <= Self.maximumActiveUserDays else {
            throw ProfileError.invalid(
                field: "range", reason: "the range spans \(dayCount) days; at most \(Self.maximumActiveUserDays) are allowed")
        }
        let (channels, unknown) = reportChannels(request.channels, counted: activeUsers.channelSymbols)
        var total = [(dau: Int64, wau: Int64, mau: Int64)](repeating: (0, 0, 0), count: dayCount)
        var rows: [(name: String, counts: [(dau: Int64, wau: Int64, mau: Int64)])] = []
        for channel in channels {
            let counts = activeUsers.counts(channel: channel, from: first, through: last)
            for offset in counts.indices {
                total[offset].dau += counts[offset].dau
                total[offset].wau += counts[offset].wau
                total[offset].mau += counts[offset].mau
            }
            if request.byChannel, !request.channels.isEmpty || counts.contains(where: { $0.mau > 0 }) {
                rows.append((self.symbols[channel], counts))
            }
        }
        if request.byChannel {
            let zeros = [(dau: Int64, wau: Int64, mau: Int64)](repeating: (0, 0, 0), count: dayCount)
            for name in unknown { rows.append((name, zeros)) }
        }
        rows.sort { $0.name < $1.name }
        let asOfDay = calendar.day(of: asOf)
        var response = Retain_V1_GetActiveUsersResponse()
        response.days.reserveCapacity(dayCount * (rows.count + 1))
        for offset in 0..<dayCount {
            let day = first + Int32(offset)
            let start = calendar.startOfDay(day)
            let complete = day < asOfDay
            func row(_ counts: (dau: Int64, wau: Int64, mau: Int64), channel: String, all: Bool) -> Retain_V1_ActiveUsersDay {
                Retain_V1_ActiveUsersDay(
                    dayStartMs: start, allChannels: all, channel: channel, dau: UInt64(max(0, counts.dau)),
                    wau: UInt64(max(0, counts.wau)), mau: UInt64(max(0, counts.mau)), complete: complete)
            }
            response.days.append(row(total[offset], channel: "", all: true))
            for channelRow in rows { response.days.append(row(channelRow.counts[offset], channel: channelRow.name, all: false)) }
        }
        return response
    }

    /// The funnel of each registration cohort (day or ISO week) of the request's range: users
    /// registered (not deleted), activated, and of those the ones who purchased.
    public func funnel(_ request: Retain_V1_GetFunnelRequest, asOf: Int64) throws(ProfileError) -> Retain_V1_GetFunnelResponse {
        try requireActivityZone(request.timeZone)
        guard let range = request.registered, range.startMs > 0, range.endMs > range.startMs else {
            throw ProfileError.invalid(field: "registered", reason: "both start_ms and end_ms are required, end after start")
        }
        let weekly = request.granularity == .week
        let firstDay = calendar.day(of: range.startMs)
        let lastDay = calendar.day(of: range.endMs - 1)
        let firstCohortDay = weekly ? ZoneCalendar.weekStart(ofDay: firstDay) : firstDay
        let cohortLength: Int32 = weekly ? 7 : 1
        let cohortCount = Int((weekly ? ZoneCalendar.weekStart(ofDay: lastDay) : lastDay) - firstCohortDay) / Int(cohortLength) + 1
        guard cohortCount <= Self.maximumCohorts else {
            throw ProfileError.invalid(
                field: "registered", reason: "the range spans \(cohortCount) cohorts; at most \(Self.maximumCohorts) are allowed")
        }
        let (channels, unknown) = reportChannels(request.channels, counted: funnel.channelSymbols)
        var names: [(name: String, symbol: Int32?)] = []
        for channel in channels
        where !request.channels.isEmpty || funnel.users(channel: channel, from: firstDay, through: lastDay).contains(where: { $0 != 0 }) {
            names.append((symbols[channel], channel))
        }
        for name in unknown { names.append((name, nil)) }
        names.sort { $0.name < $1.name }
        let asOfDay = calendar.day(of: asOf)
        var response = Retain_V1_GetFunnelResponse(
            activation: Retain_V1_ActivationDefinition(
                minActiveDays: UInt32(activation.minActiveDays), withinDays: UInt32(activation.withinDays)))
        for cohort in 0..<cohortCount {
            let cohortStart = firstCohortDay + Int32(cohort) * cohortLength
            let from = max(cohortStart, firstDay)
            let through = min(cohortStart + cohortLength - 1, lastDay)
            let complete = Int64(through) + Int64(activation.withinDays) - 1 < Int64(asOfDay)
            var total: [Int64] = [0, 0, 0, 0]
            var channelRows: [Retain_V1_FunnelRow] = []
            for entry in names {
                let stages = entry.symbol.map { funnel.users(channel: $0, from: from, through: through) } ?? [0, 0, 0, 0]
                for stage in 0..<4 { total[stage] += stages[stage] }
                if request.byChannel {
                    channelRows.append(
                        Self.funnelRow(stages, start: calendar.startOfDay(cohortStart), channel: entry.name, all: false, complete: complete)
                    )
                }
            }
            response.rows.append(Self.funnelRow(total, start: calendar.startOfDay(cohortStart), channel: "", all: true, complete: complete))
            response.rows.append(contentsOf: channelRows)
        }
        return response
    }

    /// One funnel row from the users per stage (bit 0 activated, bit 1 purchased).
    private static func funnelRow(_ stages: [Int64], start: Int64, channel: String, all: Bool, complete: Bool) -> Retain_V1_FunnelRow {
        let registered = UInt64(max(0, stages.reduce(0, +)))
        let activated = UInt64(max(0, stages[1] + stages[3]))
        let purchased = UInt64(max(0, stages[3]))
        return Retain_V1_FunnelRow(
            cohortStartMs: start, allChannels: all, channel: channel, registered: registered, activated: activated,
            purchased: purchased, activationRate: registered > 0 ? Double(activated) / Double(registered) : 0,
            purchaseRate: activated > 0 ? Double(purchased) / Double(activated) : 0,
            purchasedNotActivated: UInt64(max(0, stages[2])), complete: complete)
    }
}
