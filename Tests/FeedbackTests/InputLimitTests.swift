import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Oversized and malformed fields against the real `retain-feedback`: INVALID_ARGUMENT naming
/// the field, with an answer that never repeats a huge input back.
@Suite("retain-feedback input limits", .serialized)
struct FeedbackInputLimitTests {
    @Test("huge invalid ids, names and property keys get INVALID_ARGUMENT naming the field, in a short answer")
    func hugeFields() async throws {
        let directory = try makeTemporaryDirectory("feedback-limits")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try FeedbackServerTests.start(directory)
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let huge = String(repeating: "x", count: 2 << 20)
        let cases: [(Retain_V1_SubmitFeedbackRequest, String)] = [
            (.init(userId: huge + "!", requestId: "r1", kind: .bug, text: "t"), "user_id"),
            (.init(userId: "ann", requestId: "r2", kind: .bug, category: huge, text: "t"), "category"),
            // The key appears in the field's path and in the message: 4 MiB echoed would not fit one frame.
            (
                .init(userId: "ann", requestId: "r3", kind: .bug, text: "t", properties: [huge: "v"]),
                "properties[" + huge.prefix(64) + "…(2097152 bytes)]"
            ),
        ]
        for (request, field) in cases {
            do {
                _ = try await client.unary(Retain_V1_Feedback.submitFeedback, request)
                Issue.record("\(field): accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument, "\(field): \(error.code)")
                #expect(error.details["field"] == field)
                #expect(error.message.utf8.count < 512, "\(field): a \(error.message.utf8.count)-byte message")
            }
        }
        // The connection and the server are fine afterwards.
        #expect(
            try await client.unary(Retain_V1_Feedback.submitFeedback, .init(userId: "ann", requestId: "ok", kind: .bug, text: "t")).item
                != nil)
        await client.close()
        #expect(server.stop() == 0)
    }
}
