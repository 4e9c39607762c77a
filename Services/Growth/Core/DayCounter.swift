import RetainProto
import RetainState

/// A user's counters of one local day (the caps' input). The common day has one capped action,
/// so the first action's growth is kept inline and only further actions take a dictionary;
/// the snapshot form is ``Retain_V1_GrowthDayCounter``.
struct DayCounter: Sendable {
    /// The local day (days since 1970-01-01 in the user's zone).
    var localDay: Int32
    /// Award growth of the day, subject to the total daily cap.
    var awardGrowth: Int64 = 0
    /// Growth of any kind earned on the day.
    var allGrowth: Int64 = 0
    /// The first action counted on the day; empty when none was.
    private var firstAction = ""
    /// Award growth of `firstAction`.
    private var firstActionGrowth: Int64 = 0
    /// Award growth of the other actions.
    private var otherActions: [String: Int64] = [:]

    init(localDay: Int32) {
        self.localDay = localDay
    }

    /// Award growth of `action` on the day (0 when it was not counted).
    func growth(of action: String) -> Int64 {
        if !firstAction.isEmpty, action == firstAction { return firstActionGrowth }
        return otherActions[action] ?? 0
    }

    /// Adds award growth to `action`.
    mutating func add(_ growth: Int64, to action: String) {
        if firstAction.isEmpty, otherActions.isEmpty, !action.isEmpty {
            firstAction = action
            firstActionGrowth = growth
        } else if !firstAction.isEmpty, action == firstAction {
            firstActionGrowth += growth
        } else {
            otherActions[action, default: 0] += growth
        }
    }

    /// The snapshot record of the day.
    var record: Retain_V1_GrowthDayCounter {
        var byAction = otherActions
        if !firstAction.isEmpty { byAction[firstAction] = firstActionGrowth }
        return Retain_V1_GrowthDayCounter(localDay: localDay, awardGrowth: awardGrowth, allGrowth: allGrowth, byAction: byAction)
    }

    /// The day of a snapshot record.
    init(_ record: Retain_V1_GrowthDayCounter) {
        localDay = record.localDay
        awardGrowth = record.awardGrowth
        allGrowth = record.allGrowth
        for (action, growth) in record.byAction { add(growth, to: action) }
    }

    /// Appends the day in the packed snapshot layout (``UserGrowth/pack(_:into:)``): local day,
    /// award growth, all growth, then the actions (the first one counted first).
    func pack(into writer: inout PackedWriter) {
        writer.put(localDay)
        writer.put(awardGrowth)
        writer.put(allGrowth)
        writer.put(UInt32((firstAction.isEmpty ? 0 : 1) + otherActions.count))
        if !firstAction.isEmpty {
            writer.put(firstAction)
            writer.put(firstActionGrowth)
        }
        for (action, growth) in otherActions {
            writer.put(action)
            writer.put(growth)
        }
    }

    /// Reads a day written by ``pack(into:)``.
    static func unpack(from reader: inout PackedReader) throws(PackedError) -> DayCounter {
        var day = DayCounter(localDay: try reader.get())
        day.awardGrowth = try reader.get()
        day.allGrowth = try reader.get()
        let actions: UInt32 = try reader.get()
        for _ in 0..<actions {
            let action = try reader.string()
            day.add(try reader.get(), to: action)
        }
        return day
    }
}
