import Foundation
import Logging
@testable import ProfileCore
import ProfileService
import RetainProto
import RetainRuleSets
import RetainState
import RetainWire
import Testing

@Suite("A/B results")
struct ExperimentResultsTests {
    /// Assigns `user` to `experiment` at `at` with two equal variants; returns the variant.
    @discardableResult
    func assign(_ fixture: inout ProfileFixture, _ user: String, at: Int64, experiment: String = "checkout") throws -> String {
        var defined = fixture.state.ruleSets.rules(at: at)?.experiments.mapValues(\.variants) ?? [:]
        if defined[experiment] == nil {
            defined[experiment] = [.init(name: "control", weight: 1), .init(name: "new_button", weight: 1)]
            try fixture.state.defineExperiments(defined, at: at)
        }
        let request = Retain_V1_AssignVariantRequest(userId: user, experimentId: experiment)
        let planned = try fixture.state.planAssignment(request, now: at)
        if let entry = planned.entry { try fixture.state.apply(entry) }
        return planned.response.variant
    }

    @Test("conversion per variant over the assigned users (events at or after the assignment), lift and a 95% Wald interval")
    func results() throws {
        var fixture = ProfileFixture()
        var variants: [String: [String]] = [:]
        for number in 0..<400 {
            let user = "u\(number)"
            try fixture.register(user, at: monday)
            variants[try assign(&fixture, user, at: monday + day), default: []].append(user)
        }
        // Control: every 4th user buys; new_button: every 2nd. A purchase before the assignment
        // does not count, nor does another kind.
        for (variant, users) in variants {
            for (position, user) in users.enumerated() {
                let buys = variant == "control" ? position % 4 == 0 : position % 2 == 0
                if buys { try fixture.record([fixture.event(user, at: monday + 2 * day, kind: "purchase", value: 100)]) }
                try fixture.record([fixture.event(user, at: monday + day / 2, kind: "purchase", value: 100)])
                try fixture.record([fixture.event(user, at: monday + 3 * day, kind: "login")])
            }
        }
        let answer = try fixture.state.experimentResults(experimentID: "checkout", metric: "purchase", control: "")
        #expect(answer.controlVariant == "control")
        #expect(answer.method.contains("Wald"))
        let control = try #require(answer.variants.first { $0.variant == "control" })
        let treatment = try #require(answer.variants.first { $0.variant == "new_button" })
        let n0 = Double(variants["control"]!.count)
        let n1 = Double(variants["new_button"]!.count)
        let c0 = Double((variants["control"]!.count + 3) / 4)
        let c1 = Double((variants["new_button"]!.count + 1) / 2)
        #expect(control.assigned == UInt64(n0) && control.converted == UInt64(c0))
        #expect(treatment.assigned == UInt64(n1) && treatment.converted == UInt64(c1))
        let p0 = c0 / n0
        let p1 = c1 / n1
        #expect(abs(treatment.conversionRate - p1) < 1e-12)
        #expect(abs(treatment.difference - (p1 - p0)) < 1e-12)
        #expect(abs(treatment.lift - (p1 - p0) / p0) < 1e-12)
        let margin = 1.959964 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0).squareRoot()
        #expect(abs(treatment.differenceCiLow - (p1 - p0 - margin)) < 1e-12)
        #expect(abs(treatment.differenceCiHigh - (p1 - p0 + margin)) < 1e-12)
        #expect(treatment.significant, "25% against 50% over about 200 users each is significant")
        #expect(control.difference == 0 && !control.significant)

        // An assignment dated in the past (assigned_at_ms: an import, a simulation) counts the
        // events from that time on.
        try fixture.register("late", at: monday)
        var defined = fixture.state.ruleSets.rules(at: monday + 300 * day)?.experiments.mapValues(\.variants) ?? [:]
        defined["dated"] = [.init(name: "only", weight: 1)]
        try fixture.state.defineExperiments(defined, at: monday + 300 * day)
        let dated = Retain_V1_AssignVariantRequest(userId: "late", experimentId: "dated", assignedAtMs: monday + day)
        let planned = try fixture.state.planAssignment(dated, now: monday + 300 * day)
        #expect(planned.response.assignedAtMs == monday + day)
        try fixture.state.apply(try #require(planned.entry))
        try fixture.record([fixture.event("late", at: monday + 2 * day, kind: "purchase", value: 100)])
        #expect(try fixture.state.experimentResults(experimentID: "dated", metric: "purchase", control: "").variants.first?.converted == 1)

        let logins = try fixture.state.experimentResults(experimentID: "checkout", metric: "login", control: "new_button")
        #expect(logins.variants.allSatisfy { $0.conversionRate == 1 && !$0.significant })
        #expect(
            rpcError { _ = try fixture.state.experimentResults(experimentID: "checkout", metric: "refund", control: "") }?.code
                == .invalidArgument)
        #expect(
            rpcError { _ = try fixture.state.experimentResults(experimentID: "nope", metric: "purchase", control: "") }?.code == .notFound)
        #expect(
            rpcError { _ = try fixture.state.experimentResults(experimentID: "checkout", metric: "purchase", control: "blue") }?.code
                == .invalidArgument)
    }

    @Test("conversions survive a restart: from the snapshot and from the log written after it")
    func restart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-ab-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "profile-test")
        func log(_ store: StateStore<ProfileState>, _ entry: Retain_V1_ProfileLogEntry?) async throws {
            guard let entry else { return }
            _ = try await store.writeDurably { try $0.log(entry) }
        }
        func fill(_ store: StateStore<ProfileState>, _ prefix: String) async throws {
            for number in 0..<40 {
                let user = "\(prefix)\(number)"
                let register = Retain_V1_RegisterUserRequest(userId: user, registeredAtMs: monday)
                if case .register(let entry) = try store.read({ try $0.planRegistration(register, now: monday, generateID: { "" }) }) {
                    try await log(store, entry)
                }
                if try store.read({ $0.ruleSets.isEmpty }) {
                    try await log(
                        store,
                        try store.read {
                            try $0.experimentsEntry(["exp": [.init(name: "a", weight: 1), .init(name: "b", weight: 1)]], at: monday)
                        })
                }
                let assign = Retain_V1_AssignVariantRequest(userId: user, experimentId: "exp")
                try await log(store, try store.read { try $0.planAssignment(assign, now: monday + day).entry })
                if number % 3 == 0 {
                    let event = Retain_V1_ActivityEvent(
                        userId: user, eventId: "p", kind: "purchase", occurredAtMs: monday + 2 * day,
                        value: .init(value: 5, asset: "cash.usd"))
                    try await log(store, ProfileState.prepareActivities([event], invalid: [:], now: monday + 2 * day).entry)
                }
            }
        }
        let before: Retain_V1_GetExperimentResultsResponse
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            try await fill(store, "s")
            #expect(try store.snapshot() != nil)
            try await fill(store, "t")
            before = try store.read { try $0.experimentResults(experimentID: "exp", metric: "purchase", control: "") }
            store.close()
        }
        #expect(before.variants.reduce(0) { $0 + $1.converted } == 28)
        let reopened = try StateStore<ProfileState>(directory: directory, logger: logger)
        #expect(try reopened.read { try $0.experimentResults(experimentID: "exp", metric: "purchase", control: "") } == before)
        reopened.close()
    }
}
