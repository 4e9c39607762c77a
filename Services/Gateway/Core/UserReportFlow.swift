public import RetainProto

/// Gateway.GetUserReport: a user's week, month or year across the four services in one answer
/// (the "annual bill"). Only reads: the sections are fetched concurrently, and with
/// `allow_partial` a failed section is listed in `missing_sections` instead of failing the call.
public struct UserReportFlow: Sendable {
    let backend: any FlowBackend

    public init(backend: any FlowBackend) {
        self.backend = backend
    }

    /// Builds the report; `now` is the gateway's clock in Unix ms.
    public func run(_ request: Retain_V1_GetUserReportRequest, now: Int64) async throws -> Retain_V1_GetUserReportResponse {
        try FlowValidation.entityID(request.userId, field: "user_id")
        guard request.period == .week || request.period == .month || request.period == .year else {
            throw FlowError.invalid(field: "period", reason: "must be WEEK, MONTH or YEAR")
        }
        let user = request.userId
        var response = Retain_V1_GetUserReportResponse(period: request.period, generatedAtMs: now)
        var missing: [String] = []
        var firstError: (any Error)?

        // The profile first: it says whether the user exists and which time zone to use.
        do {
            response.profile = try await backend.call(
                Retain_V1_Profile.getProfile, Retain_V1_GetProfileRequest(userId: user), .read
            ).profile
        } catch let error as BackendFailure where error.reason == .notFound || error.reason == .invalid {
            throw error
        } catch {
            guard request.allowPartial else { throw error }
            missing.append("profile")
        }
        let zone = !request.timeZone.isEmpty ? request.timeZone : (response.profile?.timeZone).flatMap { $0.isEmpty ? nil : $0 } ?? "UTC"
        let at = request.atMs != 0 ? request.atMs : now
        let bounds = try ReportPeriods.bounds(request.period, at: at, timeZone: zone)
        response.timeZone = zone
        response.periodStartMs = bounds.startMs
        response.periodEndMs = bounds.endMs
        let range = Retain_V1_TimeRange(startMs: bounds.startMs, endMs: bounds.endMs)
        let backend = backend

        async let lifecycle = Self.section {
            try await backend.call(
                Retain_V1_Profile.getLifecycle,
                Retain_V1_GetLifecycleRequest(userId: user, asOfMs: min(bounds.endMs - 1, now)), .read)
        }
        async let growthNow = Self.section {
            try await backend.call(
                Retain_V1_Growth.getGrowthView, Retain_V1_GetGrowthViewRequest(userId: user, timeZone: zone), .read)
        }
        async let growth = Self.section {
            try await backend.call(
                Retain_V1_Growth.getGrowthSummary,
                Retain_V1_GetGrowthSummaryRequest(userId: user, range: range, timeZone: zone), .read)
        }
        async let ledger = Self.section { () async throws -> [Retain_V1_AssetSummary] in
            if request.period == .year {
                return try await backend.call(
                    Retain_V1_Ledger.getYearlySummary,
                    Retain_V1_GetYearlySummaryRequest(userId: user, year: bounds.year, timeZone: zone), .read
                ).assets
            }
            return try await backend.call(
                Retain_V1_Ledger.getLedgerSummary, Retain_V1_GetLedgerSummaryRequest(userId: user, range: range), .read
            ).assets
        }
        async let balances = Self.section {
            try await backend.call(
                Retain_V1_Ledger.getBalance, Retain_V1_GetBalanceRequest(userId: user), .read
            ).balances
        }
        async let feedback = Self.section {
            try await backend.call(
                Retain_V1_Feedback.getUserFeedbackHistory,
                Retain_V1_GetUserFeedbackHistoryRequest(userId: user, range: range), .read)
        }

        func take<T>(_ result: Result<T, any Error>, _ name: String) -> T? {
            switch result {
            case .success(let value): return value
            case .failure(let error):
                missing.append(name)
                if firstError == nil { firstError = error }
                return nil
            }
        }
        response.lifecycle = take(await lifecycle, "lifecycle")
        response.growthNow = take(await growthNow, "growth_now")
        response.growth = take(await growth, "growth")
        response.ledger = take(await ledger, "ledger") ?? []
        response.balances = take(await balances, "balances") ?? []
        response.feedback = take(await feedback, "feedback")
        if let firstError, !request.allowPartial { throw firstError }
        response.missingSections = missing
        return response
    }

    private static func section<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }
}
