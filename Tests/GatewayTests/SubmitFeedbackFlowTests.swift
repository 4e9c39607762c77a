import Foundation
import GatewayCore
import GatewayService
import RetainProto
import RetainWire
import Testing

/// Gateway.SubmitFeedbackFlow against in-memory backends: the user's tier privileges reach
/// Feedback's priority rules.
@Suite("SubmitFeedback flow")
struct SubmitFeedbackFlowTests {
    private func submit(
        _ backends: FakeBackends, _ submission: Retain_V1_SubmitFeedbackRequest
    ) async throws
        -> Retain_V1_SubmitFeedbackFlowResponse
    {
        try await FlowError.mapped { try await SubmitFeedbackFlow(backend: backends).run(.init(submission: submission)) }
    }

    @Test("the privileges the user's tier grants are passed to Feedback; a caller's own are replaced")
    func privilegesFromTheTier() async throws {
        let backends = FakeBackends()
        await backends.setTier(
            "vip",
            Retain_V1_LevelTier(
                level: 4, name: "Platinum",
                privileges: [
                    .init(name: "discount_percent", value: "8"), .init(name: "birthday_coupon", value: "false"),
                    .init(name: "priority_support", value: "true"),
                ]))
        var submission = Retain_V1_SubmitFeedbackRequest(userId: "vip", requestId: "r1", kind: .complaint, text: "late")
        submission.privileges = ["made_up"]
        let answer = try await submit(backends, submission)
        #expect(answer.privileges == ["discount_percent", "priority_support"])
        #expect(await backends.submissions.last?.privileges == ["discount_percent", "priority_support"])
        #expect(answer.feedback?.item?.priority == .urgentImportant)
        #expect(answer.steps.map(\.name) == ["growth.view", "feedback.submit"])
        let kinds = await backends.kinds
        #expect(kinds[Retain_V1_Feedback.submitFeedback.path] == [.write(key: "r1")])
        let again = try await submit(backends, submission)
        #expect(again.replayed && again.feedback?.item?.itemId == answer.feedback?.item?.itemId)
    }

    @Test("a user of the lowest tier passes no privileges; a submission without a request id is refused")
    func noPrivileges() async throws {
        let backends = FakeBackends()
        let answer = try await submit(backends, .init(userId: "new", requestId: "r", kind: .suggestion, text: "dark mode"))
        #expect(answer.privileges.isEmpty && answer.feedback?.item?.priority == .routine)
        await #expect(throws: RPCError.invalidArgument(field: "submission.request_id", "is required")) {
            _ = try await submit(backends, .init(userId: "new", kind: .suggestion, text: "x"))
        }
        await #expect(throws: RPCError.invalidArgument(field: "submission", "is required")) {
            _ = try await FlowError.mapped { try await SubmitFeedbackFlow(backend: backends).run(.init()) }
        }
    }
}
