import RetainState
package import RetainProto

/// A ``Retain_V1_SegmentFilter`` compiled against a state's symbols: names become symbols once,
/// so that matching a user compares integers. A condition naming only strings that no user ever
/// had cannot match anyone (``matchesNothing``).
package struct SegmentMatcher {
    private var channels: [Int32]?
    private var campaigns: [Int32]?
    private var regions: [Int32]?
    private var tagsAll: [Int32] = []
    private var tagsAny: [Int32]?
    private var tagsNone: [Int32] = []
    private var attributesEqual: [(key: Int32, values: Set<String>)] = []
    private var attributeRanges: [(key: Int32, minimum: Double?, maximum: Double?)] = []
    private var stages: [Retain_V1_LifecycleStage]?
    /// Every user's stage as of `asOf`'s day (``StageCache``), read instead of evaluating.
    private var cachedStages: [UInt8]?
    private var genders: [UInt8]?
    private var registered: (start: Int64, end: Int64)?
    private var lastActive: (start: Int64, end: Int64)?
    private var minimumAge: UInt8 = 0
    private var maximumAge: UInt8 = 0
    private var activity: [Retain_V1_ActivityCondition] = []
    private var purchaseTotals: [(asset: Int32, minimum: Int64?, maximum: Int64?)] = []
    /// True when no user can match.
    package private(set) var matchesNothing = false
    private let asOf: Int64
    private let asOfDay: Int32
    private let calendar: ZoneCalendar
    private let evaluator: LifecycleEvaluator

    /// Compiles `filter` (already validated) for `state`, with stages evaluated at `asOf`; with
    /// `cachedStages`, a filter on stages reads the state's ``StageCache`` (users are then
    /// matched with their index, ``matches(_:index:)``).
    package init(
        _ filter: Retain_V1_SegmentFilter, state: borrowing ProfileState, asOf: Int64, evaluator: LifecycleEvaluator,
        cachedStages: Bool = false
    ) {
        self.asOf = asOf
        self.asOfDay = state.calendar.day(of: asOf)
        self.calendar = state.calendar
        self.evaluator = evaluator
        func known(_ names: [String]) -> [Int32]? {
            guard !names.isEmpty else { return nil }
            let symbols = names.compactMap { state.symbols.symbol($0) }
            return symbols
        }
        channels = known(filter.channels)
        campaigns = known(filter.campaigns)
        regions = known(filter.regions)
        tagsAny = known(filter.tagsAny)
        if channels?.isEmpty == true || campaigns?.isEmpty == true || regions?.isEmpty == true || tagsAny?.isEmpty == true {
            matchesNothing = true
        }
        for tag in filter.tagsAll {
            guard let symbol = state.symbols.symbol(tag) else {
                matchesNothing = true
                continue
            }
            tagsAll.append(symbol)
        }
        tagsNone = filter.tagsNone.compactMap { state.symbols.symbol($0) }
        for condition in filter.attributesEqual {
            guard let key = state.symbols.symbol(condition.key) else {
                matchesNothing = true
                continue
            }
            attributesEqual.append((key, Set(condition.values)))
        }
        for condition in filter.attributeRanges {
            guard let key = state.symbols.symbol(condition.key) else {
                matchesNothing = true
                continue
            }
            attributeRanges.append((key, condition.hasMin ? condition.minValue : nil, condition.hasMax ? condition.maxValue : nil))
        }
        if !filter.stages.isEmpty {
            stages = filter.stages
            if cachedStages { self.cachedStages = state.stageCache.stages(day: asOfDay, evaluator: evaluator, users: state.users) }
        }
        if !filter.genders.isEmpty { genders = filter.genders.map { UInt8(clamping: $0.rawValue) } }
        if let range = filter.registered, range.startMs != 0 || range.endMs != 0 {
            registered = (range.startMs, range.endMs == 0 ? .max : range.endMs)
        }
        if let range = filter.lastActive, range.startMs != 0 || range.endMs != 0 {
            lastActive = (range.startMs, range.endMs == 0 ? .max : range.endMs)
        }
        minimumAge = UInt8(clamping: filter.minAge)
        maximumAge = UInt8(clamping: filter.maxAge)
        activity = filter.activity
        for condition in filter.purchaseTotals {
            let minimum = condition.hasMin ? condition.minValue : nil
            let maximum = condition.hasMax ? condition.maxValue : nil
            guard let asset = state.symbols.symbol(condition.asset) else {
                // Nobody ever bought in this asset: every sum is 0.
                if let minimum, minimum > 0 { matchesNothing = true }
                if let maximum, maximum < 0 { matchesNothing = true }
                continue
            }
            purchaseTotals.append((asset, minimum, maximum))
        }
    }

    /// What `condition` counts for `user` as of `asOfDay` (see ``Retain_V1_ActivityCondition``):
    /// events of its kind (or every kind) or active days over the window of whole days ending on
    /// the as-of day, or the all-time count when `days` is 0.
    package static func count(
        _ condition: Retain_V1_ActivityCondition, of summary: borrowing ActivitySummary, asOfDay: Int32
    ) -> Int {
        if condition.days == 0 {
            return condition.kind.isEmpty
                ? Int(summary.eventCount) : Int(summary.kindCounts[ActivityKind.index(of: condition.kind)])
        }
        let first = asOfDay - Int32(condition.days) + 1
        guard summary.hasActivity, summary.headDay >= first else { return 0 }
        if condition.measure == .activeDays { return summary.activeDays(from: first, through: asOfDay) }
        var sum = 0
        let purchases = condition.kind == "purchase"
        for day in first...asOfDay {
            sum += purchases ? summary.purchases(on: day) : summary.events(on: day)
        }
        return sum
    }

    /// The user's purchase sum in `asset` (0 when none).
    package static func purchaseTotal(_ user: UnsafePointer<UserRecord>, asset: Int32) -> Int64 {
        for total in user.pointee.purchaseTotals where total.asset == asset { return total.value }
        return 0
    }

    /// Whether the (not deleted) user matches. Cheap conditions first, the stage last.
    @inline(__always)
    package func matches(_ user: UnsafePointer<UserRecord>, index: Int = -1) -> Bool {
        if let channels, !channels.contains(user.pointee.channel) { return false }
        if let campaigns, !campaigns.contains(user.pointee.campaign) { return false }
        if let regions, !regions.contains(user.pointee.region) { return false }
        if let genders, !genders.contains(user.pointee.gender) { return false }
        if minimumAge > 0, user.pointee.age == 0 || user.pointee.age < minimumAge { return false }
        if maximumAge > 0, user.pointee.age == 0 || user.pointee.age > maximumAge { return false }
        if let registered {
            let at = user.pointee.registeredAtMs
            if at < registered.start || at >= registered.end { return false }
        }
        if let lastActive {
            let at = user.pointee.activity.lastActive(asOf: asOf, calendar: calendar)
            if at == 0 || at < lastActive.start || at >= lastActive.end { return false }
        }
        if !tagsAll.isEmpty || tagsAny != nil || !tagsNone.isEmpty {
            for tag in tagsAll where !user.pointee.hasTag(tag) { return false }
            if let tagsAny, !tagsAny.contains(where: { user.pointee.hasTag($0) }) { return false }
            for tag in tagsNone where user.pointee.hasTag(tag) { return false }
        }
        for condition in attributesEqual {
            guard let value = user.pointee.attribute(condition.key), condition.values.contains(value) else { return false }
        }
        for condition in attributeRanges {
            guard let text = user.pointee.attribute(condition.key), let value = Double(text), value.isFinite else { return false }
            if let minimum = condition.minimum, value < minimum { return false }
            if let maximum = condition.maximum, value > maximum { return false }
        }
        for condition in activity {
            let count = Self.count(condition, of: user.pointee.activity, asOfDay: asOfDay)
            if count < Int(condition.minCount) { return false }
            if condition.hasMax, count > Int(condition.maxCount) { return false }
        }
        for condition in purchaseTotals {
            let value = Self.purchaseTotal(user, asset: condition.asset)
            if let minimum = condition.minimum, value < minimum { return false }
            if let maximum = condition.maximum, value > maximum { return false }
        }
        if let stages {
            guard user.pointee.registeredAtMs <= asOf else { return false }
            let stage =
                if let cachedStages, index >= 0 {
                    Retain_V1_LifecycleStage(rawValue: Int32(cachedStages[index]))
                } else {
                    evaluator.evaluate(user.pointee.activity, day: asOfDay, dayIsOver: false).stage
                }
            if !stages.contains(stage) { return false }
        }
        return true
    }
}
