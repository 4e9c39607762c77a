import Foundation
import RetainLauncher
import RetainProcess
@testable import RetainSoak
import Testing

/// The soak, short: the real suite with authentication on, a few seconds of mixed load, one
/// service killed and restarted on its data directory, and every acknowledged write verified.
@Suite("soak", .serialized)
struct SoakTests {
    @Test("a short soak with a ledger crash loses and duplicates no acknowledged write")
    func shortSoak() async throws {
        var configuration = SoakRun.Configuration()
        configuration.duration = .seconds(16)
        configuration.faultInterval = .seconds(8)
        configuration.concurrency = 4
        configuration.sampleInterval = .milliseconds(500)
        let report = try await SoakRun(configuration: configuration).run()
        print(report.text)
        #expect(
            report.passed,
            "lost: \(report.lost.prefix(5)), duplicated: \(report.duplicated.prefix(5)), unreadable: \(report.unreadable.prefix(5))")
        #expect(report.faults.map(\.description) == ["SIGKILL ledger + restart"])
        #expect(report.faults.allSatisfy { $0.error == nil })
        #expect(report.restarts["ledger"] == 1)
        for kind in ["profile.register", "ledger.transfer", "feedback.submit", "growth.award"] {
            #expect((report.checked[kind] ?? 0) > 0, "no acknowledged \(kind) was checked")
        }
        #expect(report.exitStatuses.count == 5 && report.exitStatuses.values.allSatisfy { $0 == 0 }, "\(report.exitStatuses)")
        #expect(report.memory.keys.sorted() == LocalSuite.Member.allCases.map(\.name).sorted())
    }

    @Test(
        "a short replicated soak: the ledger's leader killed and the profile's paused past its lease, no acknowledged write lost or duplicated",
        .enabled(if: FileManager.default.isExecutableFile(atPath: EtcdProcess.defaultExecutable.path), "etcd is not installed"))
    func replicatedSoak() async throws {
        var configuration = SoakRun.Configuration()
        configuration.replicas = 3
        configuration.duration = .seconds(26)
        configuration.faultInterval = .seconds(8)
        configuration.concurrency = 4
        configuration.sampleInterval = .milliseconds(500)
        let report = try await SoakRun(configuration: configuration).run { print("soak: \($0)") }
        print(report.text)
        #expect(
            report.passed,
            "lost: \(report.lost.prefix(5)), duplicated: \(report.duplicated.prefix(5)), unreadable: \(report.unreadable.prefix(5))")
        #expect(report.faults.count == 2)
        #expect(
            report.faults.first?.description.hasPrefix("SIGKILL ledger leader ledger-0-") == true, "\(report.faults.map(\.description))")
        #expect(
            report.faults.last?.description.hasPrefix("SIGSTOP profile leader profile-0-") == true, "\(report.faults.map(\.description))")
        #expect(report.faults.allSatisfy { $0.error == nil && $0.tookLeader })
        // A write was answered after each leader's loss: a new leader took over (the figure
        // itself is printed; on a loaded machine it can exceed the lease by seconds).
        #expect(report.faults.allSatisfy { $0.failover != nil }, "\(report.faults.map(\.failover))")
        #expect(report.restarts.values.reduce(0, +) == 1, "\(report.restarts)")
        for kind in ["profile.register", "ledger.transfer", "feedback.submit", "growth.award"] {
            #expect((report.checked[kind] ?? 0) > 0, "no acknowledged \(kind) was checked")
        }
        #expect(report.members.count == 13 && report.exitStatuses.count == 13, "\(report.members)")
        #expect(report.exitStatuses.values.allSatisfy { $0 == 0 }, "\(report.exitStatuses)")
    }

    @Test("the verifier reports acknowledged writes that the services do not hold")
    func verifierFindsLoss() async throws {
        let suite = try LocalSuite(configuration: SoakRun.suiteConfiguration(binaries: ServerProcess.buildDirectory))
        let connections = try SoakConnections(suite: suite)
        let workload = SoakWorkload(run: "verifier", book: SoakBook(), connections: connections)
        try await workload.prepare()
        var ghost = SoakBook.Acknowledged()
        ghost.users = ["ghost"]
        ghost.transfers = ["t-ghost": .init(transferID: "t-ghost", userID: "ghost", amount: 5)]
        ghost.feedback = ["ghost": ["f-ghost": "no-such-item"]]
        let result = await SoakVerifier(workload: workload).verify(ghost)
        #expect(!result.passed)
        #expect(result.lost.contains("user ghost"))
        #expect(result.lost.contains("balance of ghost: 0 of 5"))
        #expect(result.lost.contains { $0.hasPrefix("budget:soakverifier:points issued 0 of 5") })
        #expect(result.lost.contains("feedback item no-such-item of ghost"))
        await connections.close()
        #expect(suite.stop().values.allSatisfy { $0 == 0 })
    }
}
