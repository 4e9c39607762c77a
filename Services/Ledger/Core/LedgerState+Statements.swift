import Foundation
public import RetainProto

extension LedgerState {
    /// A user's postings, newest first, paged.
    public func statement(_ request: Retain_V1_GetStatementRequest) throws -> Retain_V1_GetStatementResponse {
        let size = try PageCursor.pageSize(request.page)
        let range = request.range ?? Retain_V1_TimeRange()
        let fingerprint = PageCursor.fingerprint([
            "statement", request.userId, request.assets.sorted().joined(separator: ","), String(range.startMs),
            String(range.endMs), request.kinds.map { String($0.rawValue) }.sorted().joined(separator: ","),
            String(request.includePending),
        ])
        let before = try PageCursor.position(request.page, fingerprint: fingerprint).map { text in
            guard let value = Int32(text) else {
                throw LedgerError.invalid(field: "page.page_token", reason: "is malformed or was issued for other filters")
            }
            return value
        }
        let assets = Set(request.assets)
        let kinds = Set(request.kinds)
        var matches: [(account: Int32, posting: PostingRef)] = []
        for index in userAccounts[request.userId] ?? [] {
            let account = accounts[index]
            guard assets.isEmpty || assets.contains(account.address.asset) else { continue }
            for posting in account.postings {
                let record = records[posting.record]
                if record.isHoldMovement, !request.includePending { continue }
                if range.startMs != 0, record.committedAt < range.startMs { continue }
                if range.endMs != 0, record.committedAt >= range.endMs { continue }
                if !kinds.isEmpty, !kinds.contains(record.kind) { continue }
                matches.append((index, posting))
            }
        }
        matches.sort { $0.posting.record > $1.posting.record }
        let start = before.map { position in matches.firstIndex { $0.posting.record < position } ?? matches.count } ?? 0
        let page = matches[start..<min(matches.count, start + size)]
        var response = Retain_V1_GetStatementResponse(
            postings: page.map { posting($0.posting, of: $0.account) },
            pageInfo: Retain_V1_PageInfo(total: UInt64(matches.count)))
        if start + size < matches.count, let last = page.last {
            response.pageInfo?.nextPageToken = PageCursor.token(fingerprint: fingerprint, position: String(last.posting.record))
        }
        return response
    }

    /// One movement of record `posting.record` on account `index`.
    func posting(_ posting: PostingRef, of index: Int32) -> Retain_V1_Posting {
        let record = records[posting.record]
        let credited = record.credit == index
        let account = accounts[index]
        let state: Retain_V1_TransferState =
            switch record.type {
            case .transfer: record.pending ? record.state : .posted
            case .void: .voided
            case .timeout: .expired
            default: .posted
            }
        return Retain_V1_Posting(
            sequence: UInt64(posting.record) + 1, transferId: record.transferId, accountId: account.id,
            asset: account.address.asset, amount: credited ? record.amount : -record.amount,
            balanceAfter: posting.balanceAfter, kind: record.kind,
            counterpartyAccountId: accounts[credited ? record.debit : record.credit].id, reason: record.reason,
            postedAtMs: record.committedAt, state: state, expiresAtMs: credited ? record.expiresAtMs : 0,
            metadata: record.metadata)
    }

    /// A user's year: earned, spent, expired and penalized per asset, by kind and by month.
    public func yearlySummary(_ request: Retain_V1_GetYearlySummaryRequest) throws -> Retain_V1_GetYearlySummaryResponse {
        guard (1970...9999).contains(request.year) else {
            throw LedgerError.invalid(field: "year", reason: "must be 1970 to 9999")
        }
        guard let zone = request.timeZone.isEmpty ? TimeZone(identifier: "UTC") : TimeZone(identifier: request.timeZone) else {
            throw LedgerError.invalid(field: "time_zone", reason: "\(request.timeZone) is not an IANA time zone")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var bounds: [Int64] = []
        for month in 0...12 {
            let components = DateComponents(year: Int(request.year) + month / 12, month: month % 12 + 1, day: 1)
            guard let date = calendar.date(from: components) else {
                throw LedgerError.invalid(field: "year", reason: "has no start of month \(month + 1) in \(zone.identifier)")
            }
            bounds.append(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        }
        let assets = summaries(user: request.userId, assets: request.assets, start: bounds[0], end: bounds[12], monthBounds: bounds)
        return Retain_V1_GetYearlySummaryResponse(year: request.year, assets: assets)
    }

    /// The same figures as the yearly summary for any range, without months.
    public func ledgerSummary(_ request: Retain_V1_GetLedgerSummaryRequest) throws -> Retain_V1_GetLedgerSummaryResponse {
        guard let range = request.range, range.startMs != 0, range.endMs != 0 else {
            throw LedgerError.invalid(field: "range", reason: "both start_ms and end_ms are required")
        }
        guard range.endMs > range.startMs else {
            throw LedgerError.invalid(field: "range.end_ms", reason: "must be greater than start_ms")
        }
        return Retain_V1_GetLedgerSummaryResponse(
            assets: summaries(user: request.userId, assets: request.assets, start: range.startMs, end: range.endMs, monthBounds: nil))
    }

    /// Summaries of a user's accounts over [start, end), sorted by asset.
    func summaries(user: String, assets: [String], start: Int64, end: Int64, monthBounds: [Int64]?) -> [Retain_V1_AssetSummary] {
        let wanted = Set(assets)
        var result: [Retain_V1_AssetSummary] = []
        for index in userAccounts[user] ?? [] {
            let account = accounts[index]
            guard wanted.isEmpty || wanted.contains(account.address.asset) else { continue }
            var summary = Retain_V1_AssetSummary(asset: account.address.asset)
            var kinds = [KindTotals](repeating: KindTotals(), count: 12)
            var months = (1...12).map { Retain_V1_MonthTotals(month: UInt32($0)) }
            var active = false
            for posting in account.postings {
                let record = records[posting.record]
                if record.isHoldMovement { continue }
                if record.committedAt < start {
                    summary.openingBalance = posting.balanceAfter
                    summary.closingBalance = posting.balanceAfter
                    continue
                }
                if record.committedAt >= end { break }
                active = true
                summary.closingBalance = posting.balanceAfter
                let credited = record.credit == index
                let kind = Int(record.kind.rawValue)
                var earned: Int64 = 0, spent: Int64 = 0, expired: Int64 = 0, penalized: Int64 = 0
                if credited {
                    kinds[kind].credited += record.amount
                    if record.kind == .refund { spent -= record.amount } else { earned += record.amount }
                } else {
                    kinds[kind].debited += record.amount
                    switch record.kind {
                    case .redemption: spent += record.amount
                    case .expiry: expired += record.amount
                    case .penalty: penalized += record.amount
                    default: break
                    }
                }
                kinds[kind].count += 1
                summary.earned += earned
                summary.spent += spent
                summary.expired += expired
                summary.penalized += penalized
                if let monthBounds, let month = (0..<12).last(where: { monthBounds[$0] <= record.committedAt }) {
                    months[month].earned += earned
                    months[month].spent += spent
                    months[month].expired += expired
                    months[month].penalized += penalized
                }
            }
            guard active || summary.openingBalance != 0 else { continue }
            summary.byKind = kindTotals(kinds)
            if monthBounds != nil { summary.months = months }
            result.append(summary)
        }
        return result.sorted { $0.asset < $1.asset }
    }

    /// Kind totals in enum order, only kinds that occurred.
    func kindTotals(_ kinds: [KindTotals]) -> [Retain_V1_KindTotal] {
        kinds.enumerated().compactMap { kind, totals in
            totals.count == 0
                ? nil
                : Retain_V1_KindTotal(
                    kind: Retain_V1_TransferKind(rawValue: Int32(kind)), credited: totals.credited, debited: totals.debited,
                    count: totals.count)
        }
    }
}
