package import RetainProto

/// Activity over the recent and baseline windows that end on one day.
package struct ActivityFigures: Sendable {
    /// Days of the recent window (only days since registration count).
    package var recentDays = 0
    package var recentEvents = 0
    package var recentActiveDays = 0
    package var recentPurchases = 0
    /// Days of the baseline window (only days since registration count; may be 0).
    package var baselineDays = 0
    package var baselineEvents = 0
    package var baselineActiveDays = 0
    package var baselinePurchases = 0
    /// False when the windows reach past the per-day counts, so that events were counted as one
    /// per active day (and purchases not at all).
    package var exact = true

    /// Events per day in the recent window.
    package var recentRate: Double { recentDays > 0 ? Double(recentEvents) / Double(recentDays) : 0 }
    /// Events per day in the baseline window.
    package var baselineRate: Double { baselineDays > 0 ? Double(baselineEvents) / Double(baselineDays) : 0 }
    /// 1 - recent rate / baseline rate, clamped to 0...1.
    package var drop: Double { baselineRate > 0 ? min(1, max(0, 1 - recentRate / baselineRate)) : 0 }
}

/// Why a user is in a stage; put in words only when asked (``LifecycleEvaluation/reason``).
package enum StageCause: Sendable {
    /// NEW: registered this many days ago.
    case registered(days: Int)
    /// SILENT or CHURNED: this many days without activity (since registration when never active).
    case idle(days: Int, everActive: Bool)
    /// RECALLED: back after a gap of this many days.
    case back(gap: Int)
    /// CHURN_RISK: the main reason.
    case churnRisk(Retain_V1_ChurnReason)
    /// ACTIVE.
    case active
}

/// A user's lifecycle stage at the end of one local day, and why.
package struct LifecycleEvaluation: Sendable {
    /// The stage.
    package var stage: Retain_V1_LifecycleStage
    /// The evaluated day.
    package var day: Int32
    /// The last day of the recent window: the evaluated day once it is over, else the day before.
    package var windowEndDay: Int32
    /// The day the stage began, when the rule that set it says (nil: NEW, which begins at
    /// registration, or ACTIVE and CHURN_RISK, which need ``LifecycleEvaluator/sinceDay(_:stage:day:)``).
    package var sinceDay: Int32?
    /// The latest active day at or before the evaluated day.
    package var lastActiveDay: Int32?
    /// The figures of the windows, filled in for ACTIVE, RECALLED and CHURN_RISK (and on request).
    package var figures = ActivityFigures()
    /// Why the user is in the stage.
    package var cause: StageCause

    /// The main churn reason when CHURN_RISK.
    package var churnReason: Retain_V1_ChurnReason {
        if case .churnRisk(let reason) = cause { return reason }
        return .unspecified
    }

    /// Why, in words, with the figures (e.g. "2 event(s) in the last 7 day(s) against 9 usually").
    package var reason: String {
        let format = LifecycleEvaluator.format
        switch cause {
        case .registered(let days):
            return "registered \(days) day(s) ago"
        case .idle(let days, let everActive):
            return everActive ? "no activity for \(days) day(s)" : "no activity in the \(days) day(s) since registration"
        case .back(let gap):
            return "back after \(gap) day(s) without activity"
        case .active:
            return "active on \(figures.recentActiveDays) of the last \(figures.recentDays) day(s)"
        case .churnRisk(let reason):
            let recentDays = Double(figures.recentDays)
            let baselineDays = Double(max(figures.baselineDays, 1))
            switch reason {
            case .activityDrop:
                return "\(figures.recentEvents) event(s) in the last \(figures.recentDays) day(s) against "
                    + "\(format(figures.baselineRate * recentDays)) usually"
            case .frequencyDrop:
                return "active on \(figures.recentActiveDays) of the last \(figures.recentDays) day(s) against "
                    + "\(format(Double(figures.baselineActiveDays) / baselineDays * recentDays)) usually"
            case .longGap:
                let gap = Int(windowEndDay) - Int(lastActiveDay ?? windowEndDay)
                return "no activity for \(gap) day(s); usually active every "
                    + "\(format(baselineDays / Double(max(figures.baselineActiveDays, 1)))) day(s)"
            default:
                return "\(figures.recentPurchases) purchase(s) in the last \(figures.recentDays) day(s) against "
                    + "\(format(Double(figures.baselinePurchases) / baselineDays * recentDays)) usually"
            }
        }
    }
}

/// Derives lifecycle stages from an ``ActivitySummary`` with ``LifecycleRules``.
///
/// Stages are judged on whole local days, as of the end of the day evaluated, in this order:
/// NEW (registered fewer than `new_days` days ago), CHURNED (`churned_days` or more days since
/// the latest activity, or since registration without any), SILENT (`silent_days` or more),
/// RECALLED (the latest comeback after a churned-length gap was fewer than `recalled_days` days
/// ago), CHURN_RISK (see ``churnRisk(_:day:figures:lastActive:)``), else ACTIVE.
///
/// The rates churn risk compares cover complete days only: evaluated at a moment inside a day
/// (the day of an `as_of`, which is not over), the recent window ends on the day before, so
/// that a morning query does not count the rest of today as a day without activity.
public struct LifecycleEvaluator: Sendable {
    /// The thresholds.
    public let rules: LifecycleRules

    /// An evaluator applying `rules` (validated).
    public init(rules: LifecycleRules) {
        self.rules = rules
    }

    /// The stage of `summary` on `day` (which must not precede registration).
    ///
    /// - Parameters:
    ///   - dayIsOver: Whether `day` has ended (a past day of a history). False for an evaluation
    ///     as of a moment inside `day`: the window figures then end on the day before (a day
    ///     not over yet is not a day without activity), while activity on `day` still counts
    ///     as activity (it ends idleness and gaps).
    ///   - withFigures: Compute the window figures for every stage, not only where needed.
    package func evaluate(
        _ summary: ActivitySummary, day: Int32, dayIsOver: Bool, withFigures: Bool = false
    )
        -> LifecycleEvaluation
    {
        let registration = summary.registrationDay
        let lastActive = summary.latestActiveDay(onOrBefore: day)
        let windowEnd = dayIsOver ? day : day - 1
        var figures: ActivityFigures?
        if withFigures { figures = self.figures(summary, day: windowEnd) }
        if Int(day) - Int(registration) < rules.newDays {
            return LifecycleEvaluation(
                stage: .new, day: day, windowEndDay: windowEnd, lastActiveDay: lastActive,
                figures: figures ?? ActivityFigures(),
                cause: .registered(days: Int(day) - Int(registration)))
        }
        let reference = max(lastActive ?? registration, registration)
        let idle = Int(day) - Int(reference)
        let stageFloor = registration + Int32(rules.newDays)
        if idle >= rules.churnedDays {
            return LifecycleEvaluation(
                stage: .churned, day: day, windowEndDay: windowEnd, sinceDay: max(reference + Int32(rules.churnedDays), stageFloor),
                lastActiveDay: lastActive, figures: figures ?? ActivityFigures(),
                cause: .idle(days: idle, everActive: lastActive != nil))
        }
        if idle >= rules.silentDays {
            return LifecycleEvaluation(
                stage: .silent, day: day, windowEndDay: windowEnd, sinceDay: max(reference + Int32(rules.silentDays), stageFloor),
                lastActiveDay: lastActive, figures: figures ?? ActivityFigures(),
                cause: .idle(days: idle, everActive: lastActive != nil))
        }
        if let (comeback, gap) = comeback(summary, day: day, lastActive: lastActive) {
            return LifecycleEvaluation(
                stage: .recalled, day: day, windowEndDay: windowEnd, sinceDay: max(comeback, stageFloor),
                lastActiveDay: lastActive, figures: figures ?? self.figures(summary, day: windowEnd), cause: .back(gap: gap))
        }
        let windows = figures ?? self.figures(summary, day: windowEnd)
        if let risk = churnRisk(summary, day: windowEnd, figures: windows, lastActive: lastActive) {
            return LifecycleEvaluation(
                stage: .churnRisk, day: day, windowEndDay: windowEnd, lastActiveDay: lastActive,
                figures: windows, cause: .churnRisk(risk))
        }
        return LifecycleEvaluation(
            stage: .active, day: day, windowEndDay: windowEnd, lastActiveDay: lastActive,
            figures: windows, cause: .active)
    }

    /// The latest comeback day within the last `recalled_days` days: an active day that follows
    /// at least `churned_days` days without activity (or without any since registration), and
    /// the length of that gap.
    package func comeback(_ summary: ActivitySummary, day: Int32, lastActive: Int32?) -> (Int32, Int)? {
        let earliest = Int(day) - rules.recalledDays + 1
        var candidate = lastActive
        while let current = candidate, Int(current) >= earliest {
            var previous = summary.latestActiveDay(onOrBefore: current - 1)
            if previous == nil, summary.olderActiveDay != ActivitySummary.noDay, summary.olderActiveDay < current {
                previous = summary.olderActiveDay
            }
            let reference = max(previous ?? summary.registrationDay, summary.registrationDay)
            let gap = Int(current) - Int(reference)
            if gap >= rules.churnedDays { return (current, gap) }
            candidate = previous
        }
        return nil
    }

    /// The recent and baseline windows ending on `day`.
    package func figures(_ summary: ActivitySummary, day: Int32) -> ActivityFigures {
        var figures = ActivityFigures()
        let registration = summary.registrationDay
        let recentStart = day - Int32(rules.recentDays) + 1
        let baselineStart = recentStart - Int32(rules.baselineDays)
        let recentFirst = max(recentStart, registration)
        let baselineFirst = max(baselineStart, registration)
        let baselineLast = recentStart - 1
        figures.recentDays = max(0, Int(day) - Int(recentFirst) + 1)
        figures.baselineDays = max(0, Int(baselineLast) - Int(baselineFirst) + 1)
        figures.exact = summary.countsCover(min(recentFirst, baselineFirst))
        if figures.recentDays > 0 {
            figures.recentActiveDays = summary.activeDays(from: recentFirst, through: day)
            figures.recentEvents = figures.exact ? summary.eventSum(from: recentFirst, through: day) : figures.recentActiveDays
            figures.recentPurchases = figures.exact ? summary.purchaseSum(from: recentFirst, through: day) : 0
        }
        if figures.baselineDays > 0 {
            figures.baselineActiveDays = summary.activeDays(from: baselineFirst, through: baselineLast)
            figures.baselineEvents =
                figures.exact
                ? summary.eventSum(from: baselineFirst, through: baselineLast) : figures.baselineActiveDays
            figures.baselinePurchases = figures.exact ? summary.purchaseSum(from: baselineFirst, through: baselineLast) : 0
        }
        return figures
    }

    /// Whether activity over the recent window fell well below the user's own baseline, and the
    /// main reason. Judged only with a baseline at least as long as the recent window and holding
    /// at least `minimum_baseline_events` events. Each reason that fires has a severity (how far
    /// its figure fell); the most severe is the main one.
    package func churnRisk(
        _ summary: ActivitySummary, day: Int32, figures: ActivityFigures, lastActive: Int32?
    ) -> Retain_V1_ChurnReason? {
        guard figures.baselineDays >= rules.recentDays, figures.baselineEvents >= rules.minimumBaselineEvents else {
            return nil
        }
        let ratio = rules.dropRatio
        let recentDays = Double(figures.recentDays)
        let baselineDays = Double(figures.baselineDays)
        var best: (severity: Double, reason: Retain_V1_ChurnReason)?
        func consider(_ severity: Double, _ reason: Retain_V1_ChurnReason) {
            if best == nil || severity > best!.severity { best = (severity, reason) }
        }
        let recentRate = figures.recentRate
        let baselineRate = figures.baselineRate
        if recentRate < ratio * baselineRate {
            consider(1 - recentRate / baselineRate, .activityDrop)
        }
        let recentFrequency = Double(figures.recentActiveDays) / recentDays
        let baselineFrequency = Double(figures.baselineActiveDays) / baselineDays
        if baselineFrequency > 0, recentFrequency < ratio * baselineFrequency {
            consider(1 - recentFrequency / baselineFrequency, .frequencyDrop)
        }
        if figures.baselineActiveDays > 0, let lastActive {
            let usualGap = baselineDays / Double(figures.baselineActiveDays)
            let gap = Double(Int(day) - Int(lastActive))
            if gap >= Double(rules.minimumGapDays), gap > rules.longGapFactor * usualGap {
                consider(1 - usualGap / gap, .longGap)
            }
        }
        if figures.exact, figures.baselinePurchases >= rules.minimumBaselinePurchases {
            let recentPurchaseRate = Double(figures.recentPurchases) / recentDays
            let baselinePurchaseRate = Double(figures.baselinePurchases) / baselineDays
            if recentPurchaseRate < ratio * baselinePurchaseRate {
                consider(1 - recentPurchaseRate / baselinePurchaseRate, .purchaseDrop)
            }
        }
        return best?.reason
    }

    /// The first day of the run of days, ending on `day`, in which the user was in `stage`;
    /// looks back at most 120 days (then answers the earliest day looked at).
    package func sinceDay(_ summary: ActivitySummary, stage: Retain_V1_LifecycleStage, day: Int32) -> Int32 {
        var first = day
        let limit = max(Int(summary.registrationDay), Int(day) - 120)
        while Int(first) - 1 >= limit, evaluate(summary, day: first - 1, dayIsOver: true).stage == stage {
            first -= 1
        }
        return first
    }

    /// The stage changes from registration (or from 255 days before `day`) through `day`,
    /// oldest first: (from, to, day of the change, reason). The first is the registration's
    /// change to NEW when it lies inside the range. Days before `day` are over; `day` itself is
    /// judged as ``evaluate(_:day:dayIsOver:withFigures:)`` judges it with `dayIsOver`.
    package func history(
        _ summary: ActivitySummary, through day: Int32, dayIsOver: Bool
    ) -> [(
        from: Retain_V1_LifecycleStage,
        to: Retain_V1_LifecycleStage,
        day: Int32, reason: String
    )] {
        let registration = summary.registrationDay
        let start = max(Int(registration), Int(day) - ActivitySummary.windowDays + 1)
        guard start <= Int(day) else { return [] }
        var changes: [(Retain_V1_LifecycleStage, Retain_V1_LifecycleStage, Int32, String)] = []
        var previous: Retain_V1_LifecycleStage = .unspecified
        if Int(registration) < start {
            previous = evaluate(summary, day: Int32(start - 1), dayIsOver: true).stage
        }
        var current = start
        while current <= Int(day) {
            let evaluation = evaluate(summary, day: Int32(current), dayIsOver: current < Int(day) || dayIsOver)
            if evaluation.stage != previous {
                changes.append((previous, evaluation.stage, Int32(current), evaluation.reason))
                previous = evaluation.stage
            }
            current += 1
        }
        return changes
    }

    /// A figure with at most one decimal.
    @Sendable static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
