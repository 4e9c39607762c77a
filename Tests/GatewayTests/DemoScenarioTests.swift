import Foundation
import RetainDemo
import RetainLauncher
import RetainProto
import RetainRPC
import Testing

/// `retain demo` at a small size against the real processes: every call succeeds and the four
/// tables, read from the services, agree with each other and with what the demo sent.
@Suite("Demo scenario")
struct DemoScenarioTests {
    @Test("a small demo run prints retention, funnel, experiment, coupon, level, points and feedback tables that add up")
    func smallRun() async throws {
        let suite = try LocalSuite()
        defer { suite.stop() }
        var clientConfiguration = RPCClient.Configuration()
        clientConfiguration.credentials = suite.adminAuthorization.map { StaticCredentials($0) }
        let client = RPCClient(host: "127.0.0.1", port: suite.gatewayPort, configuration: clientConfiguration)
        let options = SuiteCredential.callOptions()
        try await GatewayReadiness.wait(client: client, options: options)
        var configuration = DemoScenario.Configuration()
        configuration.users = 150
        configuration.weeks = 5
        configuration.concurrency = 16
        configuration.seed = 7
        let progress = Lines()
        let report = try await DemoScenario(client: client, options: options, configuration: configuration) { progress.add($0) }.run()
        await client.close()

        #expect(report.activity.failed == 0, "failures: \(report.activity.failures)")
        #expect(progress.all.filter { $0.contains("demo: week ") }.count == 5)

        // Retention: every user is in one channel's cohorts, and rates are fractions.
        let all = try #require(report.retention.first { $0.channel == "all" })
        #expect(all.newUsers == 150)
        #expect(report.retention.filter { $0.channel != "all" }.reduce(0) { $0 + $1.newUsers } == 150)
        #expect(report.retention.first { $0.channel == "referral" }?.newUsers ?? 0 > 0)
        for row in report.retention {
            for cell in row.cells { #expect(cell.retained <= cell.base && cell.base <= row.newUsers, "\(row.channel) day \(cell.day)") }
        }
        #expect(all.cells.map(\.day) == [1, 7, 30] && all.cells.allSatisfy { $0.base > 0 && $0.retained > 0 })

        // The funnel: every user registered once; each step within the one before.
        let funnelAll = try #require(report.funnel.first { $0.channel == "all" })
        #expect(funnelAll.registered == 150)
        #expect(report.funnel.filter { $0.channel != "all" }.reduce(0) { $0 + $1.registered } == 150)
        #expect(funnelAll.activated > 0 && funnelAll.activated <= funnelAll.registered)
        #expect(funnelAll.purchased > 0 && funnelAll.purchased <= funnelAll.activated)

        // The checkout experiment: every user assigned once; conversions within assignments.
        #expect(report.experiment.variants.map(\.variant) == ["control", "one_click"])
        #expect(report.experiment.variants.reduce(0) { $0 + $1.assigned } == 150)
        #expect(report.experiment.variants.allSatisfy { $0.converted > 0 && $0.converted <= $0.assigned })

        // Coupons: one welcome coupon per user, redeemed, refused under the threshold, or unused.
        let coupons = report.coupons
        #expect(coupons.issued == 150)
        #expect(coupons.redeemed > 0 && report.activity.couponsBelowThreshold > 0)
        #expect(coupons.issued - coupons.redeemed - coupons.expired == coupons.outstanding)

        // Levels: one per user.
        #expect(report.levels.reduce(0) { $0 + $1.users } == 150)
        #expect(report.levels.first?.name == "Bronze")

        // Points: the ledger's totals add up, and the welcome bonus was paid once per user.
        let points = report.points
        #expect(points.balanced)
        #expect(points.issued - points.spent - points.expired - points.penalized == points.outstanding)
        let welcome: Int64 = points.issuedByKind.first { $0.kind == "welcome bonus" }?.value ?? 0
        #expect(welcome == 150 * 100)
        #expect(points.spent > 0 && points.expired > 0)
        #expect(points.expired == report.expiry.points)

        // Feedback: what was submitted and resolved, with compensation paid through the ledger.
        #expect(report.activity.complaints > 0)
        #expect(report.feedback.byKind.reduce(0) { $0 + $1.total } == UInt64(report.activity.complaints))
        #expect(report.feedback.resolved == UInt64(report.activity.resolved))
        #expect(report.feedback.compensationPaid == 50 * Int64(report.feedback.compensations))

        // The recall campaign: the users drifting away, a 20% holdout, every treated one touched.
        let recall = try #require(report.recall, "a 6-week run has users drifting away")
        let treated = try #require(recall.treated)
        let holdout = try #require(recall.holdout)
        #expect(treated.members > 0 && holdout.members > 0 && treated.members > holdout.members)
        #expect(recall.touched == treated.members, "push is allowed for everyone once")
        #expect(treated.returned <= treated.members && holdout.returned <= holdout.members)

        let text = report.text
        for heading in [
            "Recall campaign ",
            "Retention by channel", "Funnel by channel", "Experiment ", "significant", "Coupons (Ledger.Audit", "Level distribution",
            "Points (Ledger.Audit", "Feedback (Feedback.GetFeedbackStats",
            "ledger balanced: yes",
        ] {
            #expect(text.contains(heading), "missing \(heading) in\n\(text)")
        }
    }
}

/// Collects progress lines from concurrent writers.
private final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func add(_ line: String) { lock.withLock { lines.append(line) } }

    var all: [String] { lock.withLock { lines } }
}
