import Foundation
import Logging
@testable import ProfileCore
import RetainProto
import RetainState
import RetainWire
import Testing

@Suite("retention: the return event")
struct RetentionReturnTests {
    func request(_ returnKind: String = "") -> Retain_V1_GetRetentionRequest {
        Retain_V1_GetRetentionRequest(
            registered: .init(startMs: monday, endMs: monday + day), days: [1, 2], returnKind: returnKind)
    }

    @Test("a user returns by logging in (the default); any event counts only when the caller asks for it")
    func loginIsTheDefaultReturn() throws {
        var fixture = ProfileFixture()
        for user in ["login", "visit", "checkin"] { try fixture.register(user, at: monday + 3_600_000) }
        try fixture.active("login", days: [1])
        try fixture.active("visit", days: [1], kind: "visit")
        try fixture.active("checkin", days: [1, 2], kind: "check_in")
        try fixture.active("login", days: [2], kind: "purchase")
        let asOf = monday + 10 * day
        let byLogin = try fixture.state.retention(request(), days: [1, 2], asOf: asOf)
        #expect(byLogin.cohorts[0].cells.map(\.retained) == [1, 0], "only the login on day 1 is a return")
        #expect(try fixture.state.retention(request("login"), days: [1, 2], asOf: asOf) == byLogin)
        let byAny = try fixture.state.retention(request("any"), days: [1, 2], asOf: asOf)
        #expect(byAny.cohorts[0].cells.map(\.retained) == [3, 2])
        #expect(rpcError { _ = try fixture.state.retention(request("visit"), days: [1], asOf: asOf) }?.code == .invalidArgument)
    }

    @Test("login days survive a restart: from the snapshot and from the log written after it")
    func restart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-return-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "profile-test")
        func log(_ store: StateStore<ProfileState>, _ entry: Retain_V1_ProfileLogEntry?) async throws {
            guard let entry else { return }
            _ = try await store.writeDurably { try $0.log(entry) }
        }
        func fill(_ store: StateStore<ProfileState>, _ prefix: String) async throws {
            for number in 0..<20 {
                let register = Retain_V1_RegisterUserRequest(userId: "\(prefix)\(number)", registeredAtMs: monday + 60_000)
                if case .register(let entry) = try store.read({ try $0.planRegistration(register, now: monday, generateID: { "" }) }) {
                    try await log(store, entry)
                }
                let event = Retain_V1_ActivityEvent(
                    userId: "\(prefix)\(number)", eventId: "d1", kind: number % 2 == 0 ? "login" : "visit",
                    occurredAtMs: monday + day + 60_000)
                try await log(store, ProfileState.prepareActivities([event], invalid: [:], now: monday + day).entry)
            }
        }
        let asOf = monday + 10 * day
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            try await fill(store, "s")
            #expect(try store.snapshot() != nil)
            try await fill(store, "t")
            #expect(try store.read { try $0.retention(request(), days: [1, 2], asOf: asOf) }.cohorts[0].cells[0].retained == 20)
            store.close()
        }
        let reopened = try StateStore<ProfileState>(directory: directory, logger: logger)
        let answer = try reopened.read { try $0.retention(request(), days: [1, 2], asOf: asOf) }
        #expect(answer.cohorts[0].cells[0].retained == 20 && answer.cohorts[0].newUsers == 40)
        #expect(try reopened.read { try $0.retention(request("any"), days: [1, 2], asOf: asOf) }.cohorts[0].cells[0].retained == 40)
        reopened.close()
    }

    @Test("a summary packed by the earlier 39-word layout (no login days) still unpacks")
    func olderLayout() throws {
        var summary = ActivitySummary(registrationDay: 20_000)
        summary.record(day: 20_001, atMs: 20_001 * day, kind: ActivityKind.index(of: "visit"))
        var writer = PackedWriter(capacity: 512)
        summary.pack(into: &writer)
        let bytes = writer.bytes
        // The mask of a summary without logins has no bit at or above 39: exactly the old layout.
        let mask = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(mask >> 39 == 0)
        let decoded = try bytes.withUnsafeBytes { raw in
            var reader = PackedReader(raw)
            return try ActivitySummary.unpack(from: &reader)
        }
        #expect(decoded.encoded() == summary.encoded())
        #expect(decoded.retained(onDay: 1) && !decoded.loggedIn(onDay: 1))
    }
}
