public import RetainProto
public import RetainFlowRules

/// Gateway.ResolveFeedbackFlow: Feedback.ResolveFeedback, then the compensation's ledger
/// transfer under the item's fixed transfer id, then Feedback.MarkCompensationPaid. Also
/// completes the payment of an item resolved earlier whose compensation is still OWED.
public struct ResolveFeedbackFlow: Sendable {
    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// Runs the flow; `now` is the gateway's clock in Unix ms.
    public func run(
        _ request: Retain_V1_ResolveFeedbackFlowRequest, now: Int64
    ) async throws
        -> Retain_V1_ResolveFeedbackFlowResponse
    {
        try FlowValidation.entityID(request.itemId, field: "item_id")
        try FlowValidation.key(request.eventId, field: "event_id")
        guard !request.actor.isEmpty else { throw FlowError.invalid(field: "actor", reason: "is required") }
        guard request.outcome != .unspecified else { throw FlowError.invalid(field: "outcome", reason: "is required") }
        if let compensation = request.compensation {
            guard compensation.value > 0 else {
                throw FlowError.invalid(field: "compensation.value", reason: "must be above 0 (leave compensation unset for none)")
            }
            try FlowValidation.name(compensation.asset, field: "compensation.asset")
        }
        var steps = FlowSteps()
        var response = Retain_V1_ResolveFeedbackFlowResponse()

        // 1. Resolve (idempotent by the event id as request_id).
        var item: Retain_V1_FeedbackItem
        do {
            let resolved = try await backend.call(
                Retain_V1_Feedback.resolveFeedback,
                Retain_V1_ResolveFeedbackRequest(
                    itemId: request.itemId, actor: request.actor, note: request.note, requestId: request.eventId,
                    outcome: request.outcome, answer: request.answer, compensation: request.compensation),
                .write(key: request.eventId))
            guard let answer = resolved.item else {
                throw FlowError.backendInconsistent("Feedback answered ResolveFeedback without the item")
            }
            item = answer
            steps.ran("feedback.resolve", replayed: resolved.replayed, "item \(request.itemId) resolved")
        } catch let error as BackendFailure where error.reason == .refused {
            // Resolved before by another request: only an unpaid compensation is left to do.
            let current = try await backend.call(
                Retain_V1_Feedback.getFeedback, Retain_V1_GetFeedbackRequest(itemId: request.itemId), .read)
            guard let existing = current.item, existing.compensation?.state == .owed,
                existing.status == .resolved || existing.status == .closed
            else { throw error }
            item = existing
            steps.add("feedback.resolve", .skipped, "item was resolved earlier; completing its owed compensation")
        }

        // 2 and 3. Pay the compensation once, then mark it paid.
        guard let compensation = item.compensation, let amount = compensation.amount, amount.value > 0 else {
            steps.add("ledger.compensation", .skipped, "no compensation")
            steps.add("feedback.mark_paid", .skipped, "no compensation")
            response.item = item
            response.steps = steps.steps
            response.replayed = steps.replayed
            return response
        }
        let transferID = compensation.transferId.isEmpty ? "feedback:\(item.itemId):compensation" : compensation.transferId
        if compensation.state == .paid {
            steps.add("ledger.compensation", .replayed, "transfer \(transferID) paid earlier")
            steps.add("feedback.mark_paid", .replayed, "marked paid earlier")
            response.paid = true
        } else {
            let payer = LedgerPayer(backend: backend, configuration: configuration)
            let transfer = LedgerPayer.reward(
                id: transferID, user: item.userId, reward: FlowConfiguration.Reward(value: amount.value, asset: amount.asset),
                budget: configuration.compensation.budget, kind: .compensation,
                expiresAtMs: LedgerPayer.expiry(base: now - now % 86_400_000, days: configuration.compensation.expiresAfterDays, now: now),
                reason: "compensation for feedback \(item.itemId)",
                metadata: ["flow": "resolve_feedback", "item_id": item.itemId])
            switch try await payer.pay(transfer) {
            case .paid(let result, let replayed, let detail):
                response.payment = result
                steps.ran("ledger.compensation", replayed: replayed, detail)
            case .refused(let result):
                throw FlowError.paymentRefused(
                    "the compensation budget '\(configuration.compensation.budget)' is exhausted (\(result.code)); item \(item.itemId) stays resolved with its compensation OWED",
                    result: result.code)
            }
            let marked = try await backend.call(
                Retain_V1_Feedback.markCompensationPaid,
                Retain_V1_MarkCompensationPaidRequest(
                    itemId: item.itemId, transferId: transferID, actor: configuration.actorName), .write(key: transferID))
            steps.ran("feedback.mark_paid", replayed: marked.replayed, "item \(item.itemId)")
            if let updated = marked.item { item = updated }
            response.paid = true
        }
        response.item = item
        response.steps = steps.steps
        response.replayed = steps.replayed
        return response
    }
}
