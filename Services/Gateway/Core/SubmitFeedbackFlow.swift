public import RetainProto

/// Gateway.SubmitFeedbackFlow: submits feedback with the user's tier privileges, read from
/// Growth, as an input of Feedback's priority rules, so that a tier's `priority_support` (or any
/// privilege the rules name) acts. The submission's request id keeps it idempotent: a retry is
/// answered with Feedback's first answer.
public struct SubmitFeedbackFlow: Sendable {
    let backend: any FlowBackend

    public init(backend: any FlowBackend) {
        self.backend = backend
    }

    /// The privileges a tier grants: those whose value is not empty, "false", "0" or "no".
    public static func granted(_ privileges: [Retain_V1_Privilege]) -> [String] {
        privileges.filter { !["", "false", "0", "no"].contains($0.value.lowercased()) }.map(\.name)
    }

    /// Runs the flow.
    public func run(_ request: Retain_V1_SubmitFeedbackFlowRequest) async throws -> Retain_V1_SubmitFeedbackFlowResponse {
        guard var submission = request.submission else { throw FlowError.invalid(field: "submission", reason: "is required") }
        try FlowValidation.entityID(submission.userId, field: "submission.user_id")
        try FlowValidation.key(submission.requestId, field: "submission.request_id")
        var steps = FlowSteps()
        var response = Retain_V1_SubmitFeedbackFlowResponse()

        // 1. The user's tier (a user Growth has never seen is at the lowest level).
        let view = try await backend.call(
            Retain_V1_Growth.getGrowthView,
            Retain_V1_GetGrowthViewRequest(userId: submission.userId), .read)
        let privileges = Self.granted(view.level?.privileges ?? [])
        steps.add(
            "growth.view", .done,
            "level \(view.level?.level ?? 1): \(privileges.isEmpty ? "no privileges" : privileges.joined(separator: ", "))")
        response.privileges = privileges

        // 2. The submission, with the privileges as a priority input.
        submission.privileges = privileges
        let answer = try await backend.call(Retain_V1_Feedback.submitFeedback, submission, .write(key: submission.requestId))
        steps.ran(
            "feedback.submit", replayed: answer.replayed,
            "item \(answer.item?.itemId ?? "?"), priority \(answer.item?.priority.protoValueName ?? "?")")
        response.feedback = answer
        response.replayed = answer.replayed
        response.steps = steps.steps
        return response
    }
}
