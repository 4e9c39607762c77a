import RetainState
public import RetainProto

extension ProfileState {
    /// Most cohorts one retention report may hold.
    public static let maximumCohorts = 366

    /// Retention by registration cohort (day or ISO week) and acquisition channel, as of `asOf`:
    /// for each cohort, its new users (not deleted, registered at or before `asOf`) and, for
    /// each requested day N, how many returned on their own day N (registration day + N):
    /// logged in (the default return event), or, with `return_kind` "any", recorded any event.
    ///
    /// Days are local days of the activity time zone, the only zone whose days the summaries
    /// count: a request in another zone is `.invalid` (field `time_zone`). A user's day N counts
    /// only once it is over, before `asOf`'s day (which is not: a return later that day must not
    /// count in a report made earlier); day N is complete once it has ended for the cohort's
    /// latest registrant.
    ///
    /// Whole registration days come from ``RetentionCounts`` (no user is read); a day the range
    /// or `asOf` cuts is counted from its own registrants. `byScan` reads every user instead: the
    /// reference the counters are tested against.
    public func retention(
        _ request: Retain_V1_GetRetentionRequest, days requestedDays: [Int], asOf: Int64, byScan: Bool = false
    ) throws(ProfileError)
        -> Retain_V1_GetRetentionResponse
    {
        let zone = request.timeZone.isEmpty ? "UTC" : request.timeZone
        guard zone == settings.activityTimeZone else {
            throw ProfileError.invalid(
                field: "time_zone",
                reason: "activity days are kept in \(settings.activityTimeZone) (the service's activity_time_zone); "
                    + "retention can be reported in that zone only, not \(zone)")
        }
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
        let asOfDay = calendar.day(of: asOf)
        let dayCount = requestedDays.count
        // The return event: a login by default, any activity on request.
        let anyActivity = request.returnKind == "any"
        guard anyActivity || request.returnKind.isEmpty || request.returnKind == "login" else {
            throw ProfileError.invalid(
                field: "return_kind", reason: "must be \"login\" (the default) or \"any\", not '\(request.returnKind)'")
        }

        // Slot 0 counts all (requested) channels; every channel seen gets a slot of its own.
        var channelFilter: [Bool]?
        if !request.channels.isEmpty {
            var allowed = [Bool](repeating: false, count: symbols.count)
            for name in request.channels { if let symbol = symbols.symbol(name) { allowed[Int(symbol)] = true } }
            channelFilter = allowed
        }
        var slotOfSymbol = [Int](repeating: -1, count: symbols.count)
        var slotSymbols: [Int32] = [-1]
        var newUsers: [[UInt64]] = [[UInt64](repeating: 0, count: cohortCount)]
        var retained: [[UInt64]] = [[UInt64](repeating: 0, count: cohortCount * dayCount)]
        var latestRegistration: [[Int32]] = [[Int32](repeating: .min, count: cohortCount)]
        func slot(_ symbol: Int32) -> Int {
            let existing = slotOfSymbol[Int(symbol)]
            if existing >= 0 { return existing }
            slotSymbols.append(symbol)
            newUsers.append([UInt64](repeating: 0, count: cohortCount))
            retained.append([UInt64](repeating: 0, count: cohortCount * dayCount))
            latestRegistration.append([Int32](repeating: .min, count: cohortCount))
            slotOfSymbol[Int(symbol)] = slotSymbols.count - 1
            return slotSymbols.count - 1
        }
        if !request.channels.isEmpty {
            for name in Set(request.channels) { if let symbol = symbols.symbol(name) { _ = slot(symbol) } }
        }
        let start = range.startMs
        let end = range.endMs
        /// Counts `users` registered on `day` through `channel`, `kept(n)` of whom returned on
        /// their day N: one user, or a whole registration day at once from its counters.
        func count(day: Int32, channel: Int32, users: UInt64, kept: (Int) -> UInt64) {
            guard users > 0 else { return }
            if let channelFilter, !channelFilter[Int(channel)] { return }
            let cohort = Int((weekly ? ZoneCalendar.weekStart(ofDay: day) : day) - firstCohortDay) / Int(cohortLength)
            guard cohort >= 0, cohort < cohortCount else { return }
            let channelSlot = slot(channel)
            for row in [0, channelSlot] {
                newUsers[row][cohort] += users
                if day > latestRegistration[row][cohort] { latestRegistration[row][cohort] = day }
            }
            for (position, n) in requestedDays.enumerated() where Int(day) + n < Int(asOfDay) {
                let returned = kept(n)
                retained[0][cohort * dayCount + position] += returned
                retained[channelSlot][cohort * dayCount + position] += returned
            }
        }
        /// Counts one user, as the report defines who counts.
        func count(_ user: UnsafePointer<UserRecord>) {
            let at = user.pointee.registeredAtMs
            guard at >= start, at < end, at <= asOf, user.pointee.deletedAtMs == 0 else { return }
            let activity = user.pointee.activity
            count(day: activity.registrationDay, channel: user.pointee.channel, users: 1) { n in
                (anyActivity ? activity.retained(onDay: n) : activity.loggedIn(onDay: n)) ? 1 : 0
            }
        }
        if byScan {
            users.forEachChunk { _, chunk in
                let base = chunk.baseAddress!
                for offset in 0..<chunk.count { count(base + offset) }
            }
        } else {
            for day in firstDay...lastDay {
                // A day wholly inside the range and over before asOf's day: every registrant counts.
                if calendar.startOfDay(day) >= start, calendar.startOfDay(day + 1) <= end, day < asOfDay {
                    for channel in retentionCounts.channels {
                        guard let bucket = retentionCounts.bucket(day: day, channel: channel) else { continue }
                        let series = anyActivity ? bucket.active : bucket.loggedIn
                        count(day: day, channel: channel, users: UInt64(bucket.users)) {
                            UInt64(RetentionCounts.Bucket.count(series, day: $0))
                        }
                    }
                } else {
                    for index in retentionCounts.usersByDay[day] ?? [] { users.withPointer(Int(index)) { count($0) } }
                }
            }
        }

        var response = Retain_V1_GetRetentionResponse()
        let channelRows = (1..<slotSymbols.count).sorted { symbols[slotSymbols[$0]] < symbols[slotSymbols[$1]] }
        for cohort in 0..<cohortCount {
            let cohortFirstDay = firstCohortDay + Int32(cohort) * cohortLength
            let cohortLastDay = min(cohortFirstDay + cohortLength - 1, lastDay)
            for row in [0] + (request.byChannel ? channelRows : []) {
                let count = newUsers[row][cohort]
                let latest = count > 0 ? latestRegistration[row][cohort] : cohortLastDay
                var cells: [Retain_V1_RetentionCell] = []
                cells.reserveCapacity(dayCount)
                for (position, n) in requestedDays.enumerated() {
                    let kept = retained[row][cohort * dayCount + position]
                    cells.append(
                        Retain_V1_RetentionCell(
                            day: UInt32(n), retained: kept, rate: count > 0 ? Double(kept) / Double(count) : 0,
                            complete: Int(latest) + n < Int(asOfDay)))
                }
                response.cohorts.append(
                    Retain_V1_RetentionCohort(
                        cohortStartMs: calendar.startOfDay(cohortFirstDay), channel: row == 0 ? "" : symbols[slotSymbols[row]],
                        newUsers: count, cells: cells))
            }
        }
        var byChannel: [Retain_V1_ChannelNewUsers] = []
        for row in 1..<slotSymbols.count {
            byChannel.append(Retain_V1_ChannelNewUsers(channel: symbols[slotSymbols[row]], newUsers: newUsers[row].reduce(0, +)))
        }
        if !request.channels.isEmpty {
            for name in Set(request.channels) where symbols.symbol(name) == nil {
                byChannel.append(Retain_V1_ChannelNewUsers(channel: name, newUsers: 0))
            }
        }
        response.newUsersByChannel = byChannel.sorted {
            $0.newUsers != $1.newUsers ? $0.newUsers > $1.newUsers : $0.channel < $1.channel
        }
        return response
    }
}
