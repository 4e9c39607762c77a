import Foundation
public import RetainProto

extension LedgerState {
    /// Most periods one GetPeriodTotals answers.
    public static let maximumPeriods = 1000

    /// The whole ledger's flows per period over a range, per asset (see the rpc's comment in
    /// proto/retain/v1/ledger.proto): issued, spent, expired, penalized, adjusted, held and the
    /// net change of the users' balances.
    ///
    /// Records are appended in time order (an entry older than the previous one is refused), so
    /// a binary search finds the range's first record and one pass walks the range, moving to
    /// the next period as the records' times pass its end: O(log journal + records in the range
    /// + periods).
    public func periodTotals(_ request: Retain_V1_GetPeriodTotalsRequest) throws -> Retain_V1_GetPeriodTotalsResponse {
        guard let range = request.range, range.startMs != 0, range.endMs != 0 else {
            throw LedgerError.invalid(field: "range", reason: "both start_ms and end_ms are required")
        }
        guard range.endMs > range.startMs else {
            throw LedgerError.invalid(field: "range.end_ms", reason: "must be greater than start_ms")
        }
        let bounds = try Self.periodBounds(
            start: range.startMs, end: range.endMs, period: request.period, timeZone: request.timeZone)
        let wanted = Set(request.assets)
        var perAsset: [Int32: (periods: [Retain_V1_PeriodTotals], kinds: [KindTotals])] = [:]
        let empty = (0..<bounds.count - 1).map { Retain_V1_PeriodTotals(startMs: bounds[$0], endMs: bounds[$0 + 1]) }
        for name in wanted {
            if let asset = assetIndex[name] { perAsset[asset] = (empty, [KindTotals](repeating: KindTotals(), count: 12)) }
        }
        var period = 0
        var index = firstRecord(atOrAfter: range.startMs)
        while index < records.count {
            let record = records[index]
            index += 1
            guard record.committedAt < range.endMs else { break }
            while record.committedAt >= bounds[period + 1] { period += 1 }
            let debit = accounts[record.debit]
            let credit = accounts[record.credit]
            if perAsset[debit.asset] == nil {
                guard wanted.isEmpty else { continue }
                perAsset[debit.asset] = (empty, [KindTotals](repeating: KindTotals(), count: 12))
            }
            var totals = perAsset[debit.asset]!.periods[period]
            totals.records += 1
            if record.isHoldMovement {
                if record.type == .transfer, debit.isUser, !credit.isUser { totals.held += record.amount }
            } else if debit.isUser != credit.isUser {
                if credit.isUser {
                    totals.net += record.amount
                    if debit.address.kind == .redemption {
                        totals.spent -= record.amount
                    } else {
                        totals.issued += record.amount
                        let kind = Int(record.kind.rawValue)
                        perAsset[debit.asset]!.kinds[kind].credited += record.amount
                        perAsset[debit.asset]!.kinds[kind].count += 1
                    }
                } else {
                    totals.net -= record.amount
                    switch credit.address.kind {
                    case .redemption: totals.spent += record.amount
                    case .expiry: totals.expired += record.amount
                    case .penalty: totals.penalized += record.amount
                    default: totals.adjusted += record.amount
                    }
                }
            }
            perAsset[debit.asset]!.periods[period] = totals
        }
        var response = Retain_V1_GetPeriodTotalsResponse()
        for (asset, found) in perAsset {
            var total = Retain_V1_PeriodTotals(startMs: range.startMs, endMs: range.endMs)
            for one in found.periods {
                total.issued += one.issued
                total.spent += one.spent
                total.expired += one.expired
                total.penalized += one.penalized
                total.adjusted += one.adjusted
                total.held += one.held
                total.net += one.net
                total.records += one.records
            }
            response.assets.append(
                Retain_V1_AssetPeriodTotals(
                    asset: assetNames[Int(asset)], periods: found.periods, total: total, issuedByKind: kindTotals(found.kinds)))
        }
        response.assets.sort { $0.asset < $1.asset }
        return response
    }

    /// The index of the first record committed at or after `ms` (records are in time order).
    func firstRecord(atOrAfter ms: Int64) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].committedAt < ms { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The boundaries of the periods that cover `[start, end)`: `start`, each calendar day, ISO
    /// week (Monday) or month start in `timeZone` between, then `end`.
    static func periodBounds(start: Int64, end: Int64, period: Retain_V1_SummaryPeriod, timeZone: String) throws -> [Int64] {
        guard let zone = timeZone.isEmpty ? TimeZone(identifier: "UTC") : TimeZone(identifier: timeZone) else {
            throw LedgerError.invalid(field: "time_zone", reason: "\(timeZone) is not an IANA time zone")
        }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = zone
        let component: Calendar.Component
        switch period {
        case .unspecified, .day: component = .day
        case .week: component = .weekOfYear
        case .month: component = .month
        default: throw LedgerError.invalid(field: "period", reason: "unknown period \(period.rawValue)")
        }
        let first = Date(timeIntervalSince1970: Double(start) / 1000)
        guard var next = calendar.dateInterval(of: component, for: first)?.end else {
            throw LedgerError.invalid(field: "range.start_ms", reason: "has no \(component) in \(zone.identifier)")
        }
        var bounds = [start]
        while true {
            let ms = Int64((next.timeIntervalSince1970 * 1000).rounded())
            guard ms < end else { break }
            guard bounds.count < maximumPeriods else {
                throw LedgerError.invalid(field: "range", reason: "holds more than \(maximumPeriods) periods")
            }
            bounds.append(ms)
            guard let following = calendar.date(byAdding: component, value: 1, to: next) else { break }
            next = following
        }
        bounds.append(end)
        return bounds
    }
}
