import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// The real `retain-profile` executable on loopback, called over TCP.
@Suite("retain-profile over TCP", .serialized)
struct ProfileServerTests {
    func start(dataDirectory: String? = nil) throws -> ServerProcess {
        try ServerProcess(
            "retain-profile",
            arguments: ["serve", "--log-level", "warning", "--ops-port=-1"]
                + (dataDirectory.map { ["--data-dir", $0] } ?? []))
    }

    func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("profile-it-\(UUID().uuidString)").path
    }

    /// The RPCError a call throws, or nil when it succeeds.
    func failure(_ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
    let day: Int64 = 86_400_000

    /// Defines experiment `id` with variants a and b, equal weights, through the profile rule set
    /// (experiments are configuration, docs/CONFIG.md).
    func defineExperiment(_ client: RPCClient, _ id: String) async throws {
        let document =
            "{\"experiments\": {\"\(id)\": {\"variants\": [{\"name\": \"a\", \"weight\": 1}, {\"name\": \"b\", \"weight\": 1}]}}}"
        _ = try await client.unary(
            Retain_V1_RuleSets.setRuleSet, .init(service: "profile", document: Array(document.utf8), reason: "define \(id)"))
    }

    @Test("register, read, update, tag and soft-delete a user")
    func profileLifecycle() async throws {
        let server = try start()
        defer { server.stop() }
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let request = Retain_V1_RegisterUserRequest(
            userId: "alice", channel: "ads.google", campaign: "spring-25", age: 30,
            gender: .female, region: "de-be", timeZone: "Europe/Berlin",
            attributes: ["plan": "free"], tags: ["beta"])
        let registered = try await client.unary(Retain_V1_Profile.registerUser, request)
        #expect(registered.profile?.stage == .new)
        #expect(!registered.replayed)
        #expect(try await client.unary(Retain_V1_Profile.registerUser, request).replayed)
        var other = request
        other.channel = "organic"
        #expect(await failure { _ = try await client.unary(Retain_V1_Profile.registerUser, other) }?.code == .alreadyExists)

        let updated = try await client.unary(
            Retain_V1_Profile.updateAttributes,
            Retain_V1_UpdateAttributesRequest(
                userId: "alice", hasAge: true, age: 31, setAttributes: ["plan": "pro"]))
        #expect(updated.profile?.age == 31)
        #expect(updated.profile?.attributes == ["plan": "pro"])
        let tags = try await client.unary(Retain_V1_Profile.addTags, Retain_V1_AddTagsRequest(userId: "alice", tags: ["vip", "beta"]))
        #expect(tags.tags == ["beta", "vip"])
        let removed = try await client.unary(Retain_V1_Profile.removeTags, Retain_V1_RemoveTagsRequest(userId: "alice", tags: ["beta"]))
        #expect(removed.tags == ["vip"])
        let read = try await client.unary(Retain_V1_Profile.getProfile, Retain_V1_GetProfileRequest(userId: "alice"))
        #expect(read.profile?.tags == ["vip"])
        #expect(read.profile?.campaign == "spring-25")

        let deleted = try await client.unary(
            Retain_V1_Profile.deleteUser,
            Retain_V1_DeleteUserRequest(userId: "alice", reason: "user request", actor: "support-7"))
        #expect(!deleted.alreadyDeleted)
        let again = try await client.unary(
            Retain_V1_Profile.deleteUser,
            Retain_V1_DeleteUserRequest(userId: "alice", reason: "again", actor: "support-7"))
        #expect(again.alreadyDeleted)
        #expect(again.deletedAtMs == deleted.deletedAtMs)
        #expect(await failure { _ = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: "alice")) }?.code == .notFound)
        let refused = await failure {
            _ = try await client.unary(Retain_V1_Profile.recordActivity, .init(userId: "alice", eventId: "late", kind: "login"))
        }
        #expect(refused?.code == .failedPrecondition, "activity for a deleted user is refused")
        let tombstone = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: "alice", includeDeleted: true))
        #expect(tombstone.profile?.deleted == true)
        await client.close()
    }

    @Test("activity, lifecycle, segments, retention and contacts over the wire")
    func activityAndLifecycle() async throws {
        let server = try start()
        defer { server.stop() }
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let registeredAt = now - 45 * day
        _ = try await client.unary(
            Retain_V1_Profile.registerUser,
            .init(
                userId: "bob", channel: "referral",
                registeredAtMs: registeredAt))
        var events: [Retain_V1_ActivityEvent] = []
        for number in stride(from: 44, through: 10, by: -1) {
            events.append(.init(userId: "bob", eventId: "visit-\(number)", kind: "visit", occurredAtMs: now - Int64(number) * day))
        }
        events.append(.init(userId: "ghost", eventId: "g", kind: "visit"))
        events.append(.init(userId: "bob", eventId: "visit-44", kind: "visit", occurredAtMs: now - 44 * day))
        let batch = try await client.unary(Retain_V1_Profile.recordActivities, .init(events: events))
        #expect(batch.acceptedCount == 35)
        #expect(batch.duplicateCount == 1)
        #expect(batch.rejectedCount == 1)
        #expect(batch.errors.first?.index == 35)
        #expect(batch.outcomes[35] == .unknownUser)

        let silent = try await client.unary(Retain_V1_Profile.getLifecycle, .init(userId: "bob"))
        #expect(silent.stage == .silent)
        #expect(silent.history.map(\.toStage).contains(.active))
        let single = try await client.unary(
            Retain_V1_Profile.recordActivity,
            .init(userId: "bob", eventId: "login-now", kind: "login"))
        #expect(single.outcome == .accepted)
        #expect(single.stageChanged)
        #expect(single.stage != .silent)
        let duplicate = try await client.unary(
            Retain_V1_Profile.recordActivity,
            .init(userId: "bob", eventId: "login-now", kind: "login"))
        #expect(duplicate.outcome == .duplicate)
        let detailed = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: "bob", includeActivity: true))
        #expect(detailed.profile?.activityCount == 36)
        #expect(detailed.profile?.activityByKind.map(\.kind) == ["login", "visit"])
        let plain = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: "bob"))
        #expect(plain.profile?.activityByKind.isEmpty == true)

        let count = try await client.unary(Retain_V1_Profile.countSegment, .init(filter: .init(channels: ["referral"])))
        #expect(count.count == 1)
        let list = try await client.unary(Retain_V1_Profile.listSegment, .init(filter: .init(), page: .init(pageSize: 10)))
        #expect(list.users.map(\.userId) == ["bob"])
        let retention = try await client.unary(
            Retain_V1_Profile.getRetention,
            .init(
                registered: .init(startMs: registeredAt, endMs: registeredAt + 1), byChannel: true))
        #expect(retention.cohorts.first?.newUsers == 1)
        #expect(retention.cohorts.first?.cells.map(\.day) == [1, 7, 30])
        #expect(retention.newUsersByChannel.first?.channel == "referral")
        let warnings = try await client.unary(Retain_V1_Profile.listChurnWarnings, .init())
        #expect(warnings.pageInfo != nil)

        let contact = try await client.unary(
            Retain_V1_Profile.checkContact,
            .init(
                userId: "bob", channels: [.sms, .inApp], campaignId: "winback", atMs: now))
        #expect(contact.decisions.count == 2)
        let touch = try await client.unary(
            Retain_V1_Profile.recordContact,
            .init(
                userId: "bob", contactId: "touch-1", channel: .inApp, campaignId: "winback", check: true))
        #expect(touch.recorded)
        let policy = try await client.unary(Retain_V1_Profile.getContactPolicy, .init())
        #expect(policy.policy?.channels.isEmpty == false)
        try await defineExperiment(client, "onboarding")
        let variant = try await client.unary(
            Retain_V1_Profile.assignVariant,
            .init(
                userId: "bob", experimentId: "onboarding", variants: [.init(name: "a", weight: 1), .init(name: "b", weight: 1)]))
        #expect(["a", "b"].contains(variant.variant))
        await client.close()
    }

    @Test("invalid arguments name the field; unknown users are NOT_FOUND")
    func errors() async throws {
        let server = try start()
        defer { server.stop() }
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let badID = await failure { _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "no spaces")) }
        #expect(badID?.code == .invalidArgument)
        #expect(badID?.details["field"] == "user_id")
        #expect(badID?.message.contains("user_id") == true)
        let future = await failure {
            _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "x", registeredAtMs: now + day))
        }
        #expect(future?.details["field"] == "registered_at_ms")
        let empty = await failure { _ = try await client.unary(Retain_V1_Profile.recordActivities, .init()) }
        #expect(empty?.details["field"] == "events")
        let unknown = await failure { _ = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: "nobody")) }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message.contains("nobody") == true)
        let activity = await failure {
            _ = try await client.unary(Retain_V1_Profile.recordActivity, .init(userId: "nobody", eventId: "e", kind: "login"))
        }
        #expect(activity?.code == .notFound)
        let page = await failure {
            _ = try await client.unary(Retain_V1_Profile.listSegment, .init(page: .init(pageToken: "not-a-token")))
        }
        #expect(page?.details["field"] == "page.page_token")
        await client.close()
    }

    /// Writes users, events, a touch and an assignment; returns what a restart must keep.
    func populate(_ client: RPCClient, prefix: String) async throws {
        for number in 0..<40 {
            _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "\(prefix)\(number)", channel: "ads"))
        }
        var events: [Retain_V1_ActivityEvent] = []
        for number in 0..<40 {
            for repeatIndex in 0..<3 {
                events.append(
                    .init(
                        userId: "\(prefix)\(number)", eventId: "e\(repeatIndex)", kind: "login",
                        occurredAtMs: now - Int64(repeatIndex) * day))
            }
        }
        _ = try await client.unary(Retain_V1_Profile.recordActivities, .init(events: events))
        _ = try await client.unary(
            Retain_V1_Profile.recordContact,
            .init(
                userId: "\(prefix)0", contactId: "c1", channel: .email, campaignId: "welcome", check: true))
        try await defineExperiment(client, "exp")
        _ = try await client.unary(Retain_V1_Profile.assignVariant, .init(userId: "\(prefix)1", experimentId: "exp"))
    }

    /// Checks what ``populate(_:prefix:)`` wrote is all there.
    func verify(_ client: RPCClient, prefix: String) async throws {
        let count = try await client.unary(Retain_V1_Profile.countSegment, .init(filter: .init(channels: ["ads"])))
        #expect(count.count >= 40)
        for number in [0, 17, 39] {
            let profile = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: "\(prefix)\(number)"))
            #expect(profile.profile?.activityCount == 3)
        }
        let duplicate = try await client.unary(
            Retain_V1_Profile.recordActivity,
            .init(userId: "\(prefix)5", eventId: "e1", kind: "login"))
        #expect(duplicate.outcome == .duplicate, "event ids survive the restart")
        let replay = try await client.unary(
            Retain_V1_Profile.recordContact,
            .init(
                userId: "\(prefix)0", contactId: "c1", channel: .email, campaignId: "welcome", check: true))
        #expect(replay.replayed)
        let sticky = try await client.unary(Retain_V1_Profile.assignVariant, .init(userId: "\(prefix)1", experimentId: "exp"))
        #expect(sticky.sticky)
    }

    @Test("a SIGKILL loses nothing that was acknowledged")
    func crashRestart() async throws {
        let dataDirectory = directory()
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let first = try start(dataDirectory: dataDirectory)
        let client = RPCClient(host: "127.0.0.1", port: first.port)
        try await populate(client, prefix: "k")
        await client.close()
        first.kill()

        let second = try start(dataDirectory: dataDirectory)
        defer { second.stop() }
        let again = RPCClient(host: "127.0.0.1", port: second.port)
        try await verify(again, prefix: "k")
        await again.close()
    }

    @Test("SIGTERM ends the server promptly, whatever the churn-warning sweep's interval (it sleeps through no shutdown)")
    func promptStop() async throws {
        let server = try ServerProcess(
            "retain-profile", arguments: ["serve", "--log-level", "warning", "--ops-port=-1", "--churn-sweep-ms", "600000"])
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "u1", channel: "ads"))
        await client.close()
        server.process.terminate()
        let deadline = ContinuousClock.now + .seconds(20)
        while server.process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.process.isRunning, "still running 20 s after SIGTERM")
        server.kill()
    }

    @Test("event sources and properties sent over the wire are kept: a segment on them matches, also after kill -9 and a restart")
    func eventProperties() async throws {
        let dataDirectory = directory()
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var events: [Retain_V1_ActivityEvent] = []
        for number in 0..<20 {
            events.append(
                Retain_V1_ActivityEvent(
                    userId: "ep\(number)", eventId: "v\(number)", kind: "view", occurredAtMs: now - Int64(number) * 3_600_000,
                    source: number % 2 == 0 ? "mini_program" : "app", properties: ["category": number % 3 == 0 ? "shoes" : "books"]))
        }
        let rule = Retain_V1_SegmentRule(
            eventProperty: Retain_V1_EventPropertyCondition(
                kind: "view", source: "mini_program", key: "category", values: ["shoes"], days: 7))
        let expected = (0..<20).filter { $0 % 2 == 0 && $0 % 3 == 0 }.map { "ep\($0)" }.sorted()
        func members(_ client: RPCClient) async throws -> [String] {
            try await client.unary(Retain_V1_Profile.matchSegmentRule, .init(rule: rule)).candidates.map(\.userId)
        }
        let first = try start(dataDirectory: dataDirectory)
        let client = RPCClient(host: "127.0.0.1", port: first.port)
        for number in 0..<20 {
            _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "ep\(number)", channel: "ads"))
        }
        let recorded = try await client.unary(Retain_V1_Profile.recordActivities, .init(events: events))
        #expect(recorded.acceptedCount == 20)
        #expect(try await members(client) == expected)
        await client.close()
        first.kill()
        let second = try start(dataDirectory: dataDirectory)
        defer { second.stop() }
        let again = RPCClient(host: "127.0.0.1", port: second.port)
        #expect(try await members(again) == expected)
        await again.close()
    }

    @Test("a graceful stop writes a snapshot; the restart restores it and replays the log written after it")
    func snapshotRestart() async throws {
        let dataDirectory = directory()
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let first = try start(dataDirectory: dataDirectory)
        let client = RPCClient(host: "127.0.0.1", port: first.port)
        try await populate(client, prefix: "s")
        await client.close()
        #expect(first.stop() == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: dataDirectory)
        #expect(files.contains { $0.hasSuffix(".snap") }, "snapshot on shutdown: \(files)")

        let second = try start(dataDirectory: dataDirectory)
        let middle = RPCClient(host: "127.0.0.1", port: second.port)
        try await verify(middle, prefix: "s")
        try await populate(middle, prefix: "t")
        await middle.close()
        second.kill()

        let third = try start(dataDirectory: dataDirectory)
        defer { third.stop() }
        let last = RPCClient(host: "127.0.0.1", port: third.port)
        try await verify(last, prefix: "s")
        try await verify(last, prefix: "t")
        await last.close()
    }

    @Test("GetActiveUsers and GetFunnel answer over the wire, and the same after a graceful restart and a crash")
    func activeUsersAndFunnel() async throws {
        let dataDirectory = directory()
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let registeredAt = (now / day - 20) * day + 3_600_000
        func populate(_ client: RPCClient, prefix: String) async throws {
            for number in 0..<10 {
                _ = try await client.unary(
                    Retain_V1_Profile.registerUser,
                    .init(userId: "\(prefix)\(number)", channel: number < 4 ? "ads" : "organic", registeredAtMs: registeredAt))
            }
            var events: [Retain_V1_ActivityEvent] = []
            for number in 0..<10 {
                // Everyone is active on the registration day; six come back on day 2; two of those buy.
                events.append(.init(userId: "\(prefix)\(number)", eventId: "r", kind: "login", occurredAtMs: registeredAt + 1000))
                if number < 6 {
                    events.append(.init(userId: "\(prefix)\(number)", eventId: "b", kind: "visit", occurredAtMs: registeredAt + 2 * day))
                }
                if number < 2 {
                    events.append(
                        .init(
                            userId: "\(prefix)\(number)", eventId: "p", kind: "purchase", occurredAtMs: registeredAt + 3 * day,
                            value: .init(value: 100, asset: "cash.usd")))
                }
            }
            _ = try await client.unary(Retain_V1_Profile.recordActivities, .init(events: events))
        }
        let range = Retain_V1_TimeRange(startMs: registeredAt, endMs: registeredAt + 1)
        func check(_ client: RPCClient, prefixes: Int) async throws {
            let active = try await client.unary(
                Retain_V1_Profile.getActiveUsers,
                .init(range: .init(startMs: registeredAt - 3_600_000, endMs: registeredAt - 3_600_000 + 4 * day), byChannel: true))
            let all = active.days.filter(\.allChannels)
            #expect(all.map(\.dau) == [10, 0, 6, 2].map { UInt64($0 * prefixes) }, "\(all)")
            #expect(all.map(\.wau) == [10, 10, 10, 10].map { UInt64($0 * prefixes) })
            #expect(active.days.filter { $0.channel == "ads" }.map(\.dau) == [4, 0, 4, 2].map { UInt64($0 * prefixes) })
            let funnel = try await client.unary(Retain_V1_Profile.getFunnel, .init(registered: range, byChannel: true))
            #expect(funnel.activation == .init(minActiveDays: 2, withinDays: 7))
            #expect(funnel.rows.map(\.channel) == ["", "ads", "organic"])
            #expect(funnel.rows.map(\.registered) == [10, 4, 6].map { UInt64($0 * prefixes) })
            #expect(funnel.rows.map(\.activated) == [6, 4, 2].map { UInt64($0 * prefixes) })
            #expect(funnel.rows.map(\.purchased) == [2, 2, 0].map { UInt64($0 * prefixes) })
            #expect(funnel.rows[0].complete)
        }
        let first = try start(dataDirectory: dataDirectory)
        let client = RPCClient(host: "127.0.0.1", port: first.port)
        try await populate(client, prefix: "a")
        try await check(client, prefixes: 1)
        let refused = await failure {
            _ = try await client.unary(Retain_V1_Profile.getActiveUsers, .init(range: range, timeZone: "Europe/Paris"))
        }
        #expect(refused?.code == .invalidArgument)
        await client.close()
        #expect(first.stop() == 0)

        let second = try start(dataDirectory: dataDirectory)
        let middle = RPCClient(host: "127.0.0.1", port: second.port)
        try await check(middle, prefixes: 1)
        try await populate(middle, prefix: "b")
        await middle.close()
        second.kill()

        let third = try start(dataDirectory: dataDirectory)
        defer { third.stop() }
        let last = RPCClient(host: "127.0.0.1", port: third.port)
        try await check(last, prefixes: 2)
        await last.close()
    }
}
