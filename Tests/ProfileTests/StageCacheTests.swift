import Foundation
@testable import ProfileCore
import RetainProto
import Testing

/// Churn warnings and segment counts by stage read every user's stage from a cache kept between
/// reports (``StageCache``); these tests hold them to the evaluation of every user while users
/// register, return and are deleted between reports, on one day and across days and thresholds.
@Suite("stages cached between reports")
struct StageCacheTests {
    @Test("churn warnings and stage counts equal the evaluation of every user, between writes", arguments: [5, 6] as [UInt64])
    func equalsScan(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var fixture = ProfileFixture()
        let channels = ["organic", "ads", "tv"]
        var users: [String] = []
        func register(_ count: Int, before last: Int) throws {
            for _ in 0..<count {
                let user = "u\(users.count)"
                let at = monday + Int64.random(in: 0..<(Int64(last) * day), using: &generator)
                try fixture.register(user, at: at, channel: channels[Int.random(in: 0..<channels.count, using: &generator)])
                users.append(user)
            }
        }
        /// Busy users early on, quieter later: drops put many at churn risk.
        func events(_ count: Int, through last: Int) throws {
            var batch: [Retain_V1_ActivityEvent] = []
            for _ in 0..<count {
                let user = users[Int.random(in: 0..<users.count, using: &generator)]
                let dayNumber = Int.random(in: max(0, last - 60)...last, using: &generator)
                batch.append(fixture.event(user, at: monday + Int64(dayNumber) * day + Int64.random(in: 0..<day, using: &generator)))
            }
            try fixture.record(batch, now: monday + 400 * day)
        }
        try register(250, before: 40)
        try events(6000, through: 45)
        var stricter = LifecycleRules()
        stricter.silentDays = 5
        stricter.churnedDays = 20
        stricter.dropRatio = 0.7
        let rules = [LifecycleRules(), stricter]
        var checked = 0
        for round in 0..<30 {
            // Writes between reports: returns, newcomers, deletions.
            let today = 46 + round / 10
            try events(Int.random(in: 1..<80, using: &generator), through: today)
            if round % 3 == 0 { try register(3, before: today) }
            if round % 4 == 1 {
                let user = users[Int.random(in: 0..<users.count, using: &generator)]
                if case .delete(let entry) = try fixture.state.planDeletion(userID: user, reason: "t", actor: "t", now: monday) {
                    try fixture.state.apply(entry)
                }
            }
            let asOf = monday + Int64(round % 7 == 6 ? today - 3 : today) * day + Int64.random(in: 0..<day, using: &generator)
            let evaluator = LifecycleEvaluator(rules: rules[round % 5 == 4 ? 1 : 0])
            for channelsAsked in [[], ["ads"]] as [[String]] {
                let cached = try fixture.state.churnWarnings(
                    channels: channelsAsked, minimumDrop: 0, pageSize: 1000, pageToken: "", asOf: asOf, now: asOf, evaluator: evaluator)
                let scanned = try fixture.state.churnWarnings(
                    channels: channelsAsked, minimumDrop: 0, pageSize: 1000, pageToken: "", asOf: asOf, now: asOf, evaluator: evaluator,
                    byScan: true)
                #expect(cached == scanned, "round \(round)")
                checked += scanned.warnings.count
            }
            if round % 5 == 0 {
                // Page by page, with a minimum drop: the cached drops order and cut as the scan does.
                var cachedToken = ""
                var scannedToken = ""
                var pages = 0
                repeat {
                    let cached = try fixture.state.churnWarnings(
                        channels: [], minimumDrop: 0.3, pageSize: 7, pageToken: cachedToken, asOf: asOf, now: asOf,
                        evaluator: evaluator)
                    let scanned = try fixture.state.churnWarnings(
                        channels: [], minimumDrop: 0.3, pageSize: 7, pageToken: scannedToken, asOf: asOf, now: asOf,
                        evaluator: evaluator, byScan: true)
                    #expect(cached == scanned, "round \(round) page \(pages)")
                    #expect(scanned.warnings.allSatisfy { $0.drop >= 0.3 })
                    cachedToken = cached.pageInfo?.nextPageToken ?? ""
                    scannedToken = scanned.pageInfo?.nextPageToken ?? ""
                    pages += 1
                } while !scannedToken.isEmpty && pages < 100
            }
            for stages in [[.churnRisk], [.active, .silent], [.new, .recalled, .churned]] as [[Retain_V1_LifecycleStage]] {
                let filter = Retain_V1_SegmentFilter(stages: stages)
                #expect(
                    fixture.state.countSegment(filter, asOf: asOf, evaluator: evaluator)
                        == fixture.state.countSegment(filter, asOf: asOf, evaluator: evaluator, byScan: true), "round \(round) \(stages)")
            }
        }
        #expect(checked > 100, "the workload put users at churn risk: \(checked) warnings compared")
    }
}
