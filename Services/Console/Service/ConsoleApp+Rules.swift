import ConsoleCore
import RetainProto
import RetainRPC
import RetainWire

/// The Rules page's one action: a rollback, for admin keys only. It checks the form token and
/// the scope itself before calling (the gateway checks the scope again, and writes the version
/// to every shard of the service).
extension ConsoleApp {
    func rollback(_ request: ConsoleRequest, session: ConsoleSession, reader: SuiteReader) async -> ConsoleResponse {
        let text = Localizer(session.language)
        let service = RulesPage.services.first { $0.service == request.form["service"] }?.service ?? "growth"
        func refuse(_ message: String, status: Int) async -> ConsoleResponse {
            let page = await reader.rules(service: service, compare: nil, nowMs: nowMs())
            let context = PageContext(language: session.language, session: session, path: "/rules", notice: (message, true))
            return .html(page.render(context), status: status)
        }
        guard request.form["form_token"] == session.formToken else { return await refuse(text[.formExpired], status: 403) }
        guard session.permissions.has("admin") else { return await refuse(text[.rollbackNeedsAdmin], status: 403) }
        guard let version = UInt64(request.form["to_version"] ?? ""), version > 0 else { return await refuse("to_version", status: 400) }
        let reason = request.form.trimmed("reason").map { String($0.prefix(200)) } ?? "rolled back to version \(version) in the console"
        do {
            let answer = try await reader.client.unary(
                Retain_V1_RuleSets.rollbackRuleSet, .init(service: service, toVersion: version, reason: reason), options: reader.options)
            return .redirect("/rules?service=\(service)&rolled_back=\(answer.version?.version ?? 0)")
        } catch let error as RPCError {
            return await refuse(error.description, status: error.code == .permissionDenied ? 403 : error.code == .notFound ? 404 : 502)
        } catch {
            return await refuse("\(error)", status: 502)
        }
    }
}
