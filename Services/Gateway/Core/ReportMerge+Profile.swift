public import RetainProto

extension ReportMerge {
    /// CountSegment: the counts add up.
    public static func countSegment(_ answers: [Retain_V1_CountSegmentResponse]) -> Retain_V1_CountSegmentResponse {
        Retain_V1_CountSegmentResponse(count: answers.reduce(0) { $0 + $1.count })
    }

    /// ListSegment's order: by user id.
    public static func segmentOrder(_ lhs: Retain_V1_UserProfile, _ rhs: Retain_V1_UserProfile) -> Bool {
        lhs.userId < rhs.userId
    }

    /// ListChurnWarnings's order: largest drop first, then by user id.
    public static func churnOrder(_ lhs: Retain_V1_ChurnWarning, _ rhs: Retain_V1_ChurnWarning) -> Bool {
        lhs.drop != rhs.drop ? lhs.drop > rhs.drop : lhs.userId < rhs.userId
    }

    /// GetRetention: per (cohort, channel) row, new users and each day's retained users add up;
    /// rates are recomputed from the sums; a cell is complete when it is on every shard that has
    /// users in the row (on any, when none has). Rows
    /// stay in time order, the all-channel row first, then channels by name; channel totals add
    /// up, largest first, then by name.
    public static func retention(_ answers: [Retain_V1_GetRetentionResponse]) -> Retain_V1_GetRetentionResponse {
        struct RowKey: Hashable, Comparable {
            var start: Int64
            var channel: String
            static func < (lhs: RowKey, rhs: RowKey) -> Bool {
                lhs.start != rhs.start ? lhs.start < rhs.start : lhs.channel < rhs.channel
            }
        }
        var rows: [RowKey: Retain_V1_RetentionCohort] = [:]
        var channels: [String: UInt64] = [:]
        for answer in answers {
            for cohort in answer.cohorts {
                let key = RowKey(start: cohort.cohortStartMs, channel: cohort.channel)
                guard var row = rows[key] else {
                    rows[key] = cohort
                    continue
                }
                // A shard without users in the row judges completeness by the cohort's last day,
                // not by its latest registration: it has no say while another shard has users.
                for (index, cell) in cohort.cells.enumerated() where index < row.cells.count {
                    row.cells[index].retained += cell.retained
                    if cohort.newUsers > 0 {
                        row.cells[index].complete = row.newUsers > 0 ? row.cells[index].complete && cell.complete : cell.complete
                    }
                }
                row.newUsers += cohort.newUsers
                rows[key] = row
            }
            for entry in answer.newUsersByChannel { channels[entry.channel, default: 0] += entry.newUsers }
        }
        var merged = Retain_V1_GetRetentionResponse()
        // The all-channel row ("") sorts first within its cohort.
        merged.cohorts = rows.keys.sorted().map { key in
            var row = rows[key]!
            for index in row.cells.indices {
                row.cells[index].rate = row.newUsers > 0 ? Double(row.cells[index].retained) / Double(row.newUsers) : 0
            }
            return row
        }
        merged.newUsersByChannel = channels.map { Retain_V1_ChannelNewUsers(channel: $0.key, newUsers: $0.value) }
            .sorted { $0.newUsers != $1.newUsers ? $0.newUsers > $1.newUsers : $0.channel < $1.channel }
        return merged
    }

    /// The key of a row of a per-day (or per-cohort) report: its day, then the all-channel row
    /// first, then channels by name.
    struct DayRowKey: Hashable, Comparable {
        var start: Int64
        var all: Bool
        var channel: String
        static func < (lhs: DayRowKey, rhs: DayRowKey) -> Bool {
            if lhs.start != rhs.start { return lhs.start < rhs.start }
            if lhs.all != rhs.all { return lhs.all }
            return lhs.channel < rhs.channel
        }
    }

    /// GetActiveUsers: per (day, row), dau, wau and mau add up (each user lives on one shard);
    /// `complete` is judged by the day alone, the same on every shard. Rows in time order, the
    /// all-channel row first, then channels by name.
    public static func activeUsers(_ answers: [Retain_V1_GetActiveUsersResponse]) -> Retain_V1_GetActiveUsersResponse {
        var rows: [DayRowKey: Retain_V1_ActiveUsersDay] = [:]
        for answer in answers {
            for day in answer.days {
                let key = DayRowKey(start: day.dayStartMs, all: day.allChannels, channel: day.channel)
                guard var row = rows[key] else {
                    rows[key] = day
                    continue
                }
                row.dau += day.dau
                row.wau += day.wau
                row.mau += day.mau
                row.complete = row.complete && day.complete
                rows[key] = row
            }
        }
        return Retain_V1_GetActiveUsersResponse(days: rows.keys.sorted().map { rows[$0]! })
    }

    /// GetFunnel: per (cohort, row), every count adds up and the rates are recomputed from the
    /// sums; `complete` is judged by the cohort's days alone, the same on every shard; the
    /// activation definition is the first shard's (configuration, the same on every shard).
    public static func funnel(_ answers: [Retain_V1_GetFunnelResponse]) -> Retain_V1_GetFunnelResponse {
        var rows: [DayRowKey: Retain_V1_FunnelRow] = [:]
        for answer in answers {
            for cohort in answer.rows {
                let key = DayRowKey(start: cohort.cohortStartMs, all: cohort.allChannels, channel: cohort.channel)
                guard var row = rows[key] else {
                    rows[key] = cohort
                    continue
                }
                row.registered += cohort.registered
                row.activated += cohort.activated
                row.purchased += cohort.purchased
                row.purchasedNotActivated += cohort.purchasedNotActivated
                row.complete = row.complete && cohort.complete
                rows[key] = row
            }
        }
        var merged = Retain_V1_GetFunnelResponse(activation: answers.first?.activation)
        merged.rows = rows.keys.sorted().map { key in
            var row = rows[key]!
            row.activationRate = row.registered > 0 ? Double(row.activated) / Double(row.registered) : 0
            row.purchaseRate = row.activated > 0 ? Double(row.purchased) / Double(row.activated) : 0
            return row
        }
        return merged
    }

    /// GetExperimentResults: assigned and converted users add up per variant (variants in the
    /// order first seen), the control is the first answer's, and the rates, differences, lifts
    /// and intervals are recomputed from the sums.
    public static func experimentResults(_ answers: [Retain_V1_GetExperimentResultsResponse]) -> Retain_V1_GetExperimentResultsResponse {
        var merged = answers.first ?? Retain_V1_GetExperimentResultsResponse()
        var position: [String: Int] = [:]
        for (index, variant) in merged.variants.enumerated() { position[variant.variant] = index }
        for answer in answers.dropFirst() {
            for variant in answer.variants {
                if let index = position[variant.variant] {
                    merged.variants[index].assigned += variant.assigned
                    merged.variants[index].converted += variant.converted
                } else {
                    position[variant.variant] = merged.variants.count
                    merged.variants.append(
                        Retain_V1_VariantResult(variant: variant.variant, assigned: variant.assigned, converted: variant.converted))
                }
            }
        }
        merged.computeStatistics()
        return merged
    }

    /// GetContactPolicy: the policy with the highest version (the latest SetContactPolicy that
    /// reached it); the first shard's among equal versions.
    public static func contactPolicy(_ answers: [Retain_V1_GetContactPolicyResponse]) -> Retain_V1_GetContactPolicyResponse {
        var best = answers.first ?? Retain_V1_GetContactPolicyResponse()
        for answer in answers.dropFirst() where (answer.policy?.version ?? 0) > (best.policy?.version ?? 0) {
            best = answer
        }
        return best
    }
}
