public import RetainProto

/// One period of a task: its key and its bounds in Unix ms (both 0 for a once task).
public struct TaskWindow: Equatable, Sendable {
    /// "once", a local date "YYYY-MM-DD" or an ISO week "YYYY-Www".
    public var key: String
    /// Start, Unix ms (inclusive).
    public var startMs: Int64
    /// End, Unix ms (exclusive).
    public var endMs: Int64

    /// The period of kind `period` that holds the instant `ms` in `zone`.
    public init(_ period: Retain_V1_TaskPeriod, at ms: Int64, in zone: LocalZone) {
        switch period {
        case .daily:
            let day = zone.day(at: ms)
            self.init(key: CivilDate.string(day), startMs: zone.startMs(of: day), endMs: zone.startMs(of: day + 1))
        case .weekly:
            let monday = CivilDate.monday(of: zone.day(at: ms))
            self.init(
                key: CivilDate.isoWeekKey(monday: monday), startMs: zone.startMs(of: monday),
                endMs: zone.startMs(of: monday + 7))
        default:
            self.init(key: "once", startMs: 0, endMs: 0)
        }
    }

    /// The period of kind `period` named `key`, or nil when `key` does not name one.
    public init?(_ period: Retain_V1_TaskPeriod, key: String, in zone: LocalZone) {
        switch period {
        case .daily:
            guard let day = CivilDate.parse(key) else { return nil }
            self.init(key: key, startMs: zone.startMs(of: day), endMs: zone.startMs(of: day + 1))
        case .weekly:
            guard let monday = CivilDate.parseISOWeek(key) else { return nil }
            self.init(key: key, startMs: zone.startMs(of: monday), endMs: zone.startMs(of: monday + 7))
        default:
            guard key == "once" else { return nil }
            self.init(key: key, startMs: 0, endMs: 0)
        }
    }

    init(key: String, startMs: Int64, endMs: Int64) {
        self.key = key
        self.startMs = startMs
        self.endMs = endMs
    }
}
