import RetainState
public import RetainProto

extension ProfileState {
    /// A user's profile, with the lifecycle stage evaluated at `now`; `includeActivity` also fills
    /// the counts per activity kind and the purchase totals.
    public func profile(
        _ userIndex: Int32, now: Int64, evaluator: LifecycleEvaluator, includeActivity: Bool = false
    )
        -> Retain_V1_UserProfile
    {
        users.withPointer(Int(userIndex)) { profile(of: $0, now: now, evaluator: evaluator, includeActivity: includeActivity) }
    }

    private func profile(
        of user: UnsafePointer<UserRecord>, now: Int64, evaluator: LifecycleEvaluator, includeActivity: Bool
    )
        -> Retain_V1_UserProfile
    {
        var attributes: [String: String] = [:]
        if !user.pointee.attributes.isEmpty {
            attributes.reserveCapacity(user.pointee.attributes.count)
            for attribute in user.pointee.attributes { attributes[symbols[attribute.key]] = attribute.value }
        }
        let activity = user.pointee.activity
        var byKind: [Retain_V1_ActivityKindCount] = []
        if includeActivity, activity.eventCount > 0 {
            let names = ActivityKind.names
            for kind in 0..<names.count where activity.kindCounts[kind] > 0 {
                byKind.append(Retain_V1_ActivityKindCount(kind: names[kind], count: UInt64(activity.kindCounts[kind])))
            }
        }
        var stage = Retain_V1_LifecycleStage.unspecified
        if now >= user.pointee.registeredAtMs {
            stage = evaluator.evaluate(activity, day: calendar.day(of: now), dayIsOver: false).stage
        }
        return Retain_V1_UserProfile(
            userId: user.pointee.id, channel: symbols[user.pointee.channel], campaign: symbols[user.pointee.campaign],
            inviterUserId: user.pointee.inviter, age: UInt32(user.pointee.age),
            gender: Retain_V1_Gender(rawValue: Int32(user.pointee.gender)), region: symbols[user.pointee.region],
            timeZone: symbols[user.pointee.timeZone], attributes: attributes,
            tags: user.pointee.tags.isEmpty ? [] : user.pointee.tags.map { symbols[$0] }.sorted(),
            registeredAtMs: user.pointee.registeredAtMs, updatedAtMs: user.pointee.updatedAtMs,
            deleted: user.pointee.deletedAtMs != 0, deletedAtMs: user.pointee.deletedAtMs, stage: stage,
            lastActiveMs: activity.lastActiveMs, activityCount: UInt64(activity.eventCount),
            activityByKind: byKind,
            purchaseTotals: !includeActivity || user.pointee.purchaseTotals.isEmpty
                ? []
                : user.pointee.purchaseTotals.map { Retain_V1_Amount(value: $0.value, asset: symbols[$0.asset]) }
                    .sorted { $0.asset < $1.asset })
    }

    /// A user's stage at `atMs`; UNSPECIFIED before the user registered.
    public func stage(_ userIndex: Int32, atMs: Int64, evaluator: LifecycleEvaluator) -> Retain_V1_LifecycleStage {
        users.withPointer(Int(userIndex)) { user in
            guard atMs >= user.pointee.registeredAtMs else { return .unspecified }
            return evaluator.evaluate(user.pointee.activity, day: calendar.day(of: atMs), dayIsOver: false).stage
        }
    }

    /// A user's lifecycle at `asOf`: stage, figures and the latest changes. `.invalid`
    /// (field `as_of_ms`) when `asOf` precedes the registration.
    public func lifecycle(
        _ userIndex: Int32, asOf: Int64, evaluator: LifecycleEvaluator
    ) throws(ProfileError) -> Retain_V1_GetLifecycleResponse {
        let user = users[Int(userIndex)]
        guard asOf >= user.registeredAtMs else {
            throw ProfileError.invalid(field: "as_of_ms", reason: "\(asOf) precedes the user's registration at \(user.registeredAtMs)")
        }
        let day = calendar.day(of: asOf)
        let evaluation = evaluator.evaluate(user.activity, day: day, dayIsOver: false, withFigures: true)
        let changes = evaluator.history(user.activity, through: day, dayIsOver: false)
        var history: [Retain_V1_LifecycleTransition] = []
        for change in changes.reversed().prefix(20) {
            let at =
                change.from == .unspecified && change.to == .new && change.day == user.activity.registrationDay
                ? user.registeredAtMs : calendar.startOfDay(change.day)
            history.append(
                Retain_V1_LifecycleTransition(
                    fromStage: change.from, toStage: change.to, atMs: at,
                    reason: change.reason))
        }
        let since: Int64
        if evaluation.stage == .new {
            since = user.registeredAtMs
        } else if let last = history.first, last.toStage == evaluation.stage {
            since = last.atMs
        } else if let sinceDay = evaluation.sinceDay {
            since = calendar.startOfDay(sinceDay)
        } else {
            since = calendar.startOfDay(evaluator.sinceDay(user.activity, stage: evaluation.stage, day: day))
        }
        return Retain_V1_GetLifecycleResponse(
            stage: evaluation.stage, sinceMs: since, lastActiveMs: user.activity.lastActive(asOf: asOf, calendar: calendar),
            recentActiveDays: UInt32(evaluation.figures.recentActiveDays), recentRate: evaluation.figures.recentRate,
            baselineRate: evaluation.figures.baselineRate, reason: evaluation.reason, churnReason: evaluation.churnReason,
            history: history)
    }

}
