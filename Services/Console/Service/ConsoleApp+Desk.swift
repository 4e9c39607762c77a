import ConsoleCore
import RetainProto
import RetainRPC
import RetainWire

/// The feedback desk's actions. Each checks the form token and the key's scopes itself before
/// calling (the gateway checks the scopes again), and answers with a redirect back to the desk
/// on success, or the desk with the refusal on top.
extension ConsoleApp {
    func deskAction(_ request: ConsoleRequest, session: ConsoleSession, reader: SuiteReader) async -> ConsoleResponse {
        let text = Localizer(session.language)
        let permissions = session.permissions
        func refuse(_ message: String, status: Int) async -> ConsoleResponse {
            let page = await reader.feedbackDesk(nowMs: nowMs())
            let context = PageContext(language: session.language, session: session, path: "/feedback", notice: (message, true))
            return .html(page.render(context), status: status)
        }
        guard request.form["form_token"] == session.formToken else { return await refuse(text[.formExpired], status: 403) }
        guard let itemID = request.form.trimmed("item_id") else { return await refuse("item_id", status: 400) }
        let actor = "console.\(session.keyID)"
        // The form's request id (one per action and state of the item, see FeedbackDeskPage), so
        // a form posted twice is answered once; a fresh one for a hand-made post without it.
        let requestID =
            request.form.trimmed("request_id").flatMap { $0.utf8.count <= 128 ? $0 : nil }
            ?? "console-\(nowMs())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            switch request.path {
            case "/feedback/triage":
                guard permissions.writesFeedback else { return await refuse("\(text[.notAllowed]) feedback:write", status: 403) }
                _ = try await reader.client.unary(
                    Retain_V1_Feedback.triageFeedback,
                    .init(
                        itemId: itemID, actor: actor, note: "triaged in the console", requestId: requestID,
                        urgent: request.form["urgent"] == "1", important: request.form["important"] == "1"),
                    options: reader.options)
                return .redirect("/feedback?done=triage&item=\(HTML.query(itemID))")
            case "/feedback/reply":
                guard permissions.writesFeedback else { return await refuse("\(text[.notAllowed]) feedback:write", status: 403) }
                guard let reply = request.form.trimmed("text") else { return await refuse(text[.replyPlaceholder], status: 400) }
                _ = try await reader.client.unary(
                    Retain_V1_Feedback.addComment,
                    .init(itemId: itemID, author: actor, text: reply, staffOnly: false, requestId: requestID), options: reader.options)
                return .redirect("/feedback?done=reply&item=\(HTML.query(itemID))")
            default:
                guard permissions.resolvesFeedback else {
                    return await refuse("\(text[.notAllowed]) feedback:write, gateway:write", status: 403)
                }
                let outcome = Retain_V1_FeedbackOutcome(rawValue: Int32(request.form["outcome"] ?? "") ?? 1)
                let points = min(100_000, max(0, Int64(request.form["points"] ?? "") ?? 0))
                let answer = request.form.trimmed("answer") ?? ""
                let result = try await reader.client.unary(
                    Retain_V1_Gateway.resolveFeedbackFlow,
                    .init(
                        itemId: itemID, eventId: requestID, actor: actor, note: "resolved in the console", outcome: outcome,
                        answer: answer.isEmpty && outcome == .answered ? "answered in the console" : answer,
                        compensation: points > 0 ? .init(value: points, asset: "points") : nil),
                    options: reader.options)
                let paid = result.paid ? (result.item?.compensation?.amount?.value ?? points) : 0
                return .redirect("/feedback?done=resolve&item=\(HTML.query(itemID))&paid=\(paid)")
            }
        } catch let error as RPCError {
            return await refuse(error.description, status: error.code == .permissionDenied ? 403 : 502)
        } catch {
            return await refuse("\(error)", status: 502)
        }
    }
}
