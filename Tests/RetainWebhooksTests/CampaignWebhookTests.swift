import Foundation
import GatewayCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWebhooks
import RetainWire
import Testing

/// A recall campaign's touches delivered through the webhook outbox (docs/CAMPAIGNS.md,
/// docs/WEBHOOKS.md): two Profile shards behind a real `retain-gateway`, a receiver that fails
/// often; every treated member's touch arrives signed, at least once, with one delivery id per
/// touch, and no holdout member ever gets one.
@Suite("Campaign messages through webhooks", .serialized)
struct CampaignWebhookTests {
    final class Suite: @unchecked Sendable {
        let root: URL
        var shards: [String: ServerProcess] = [:]
        var gateway: ServerProcess?

        init() throws {
            root = try makeTemporaryDirectory("campaign-webhooks")
            var instances: [Topology.Instance] = []
            for index in 0..<2 {
                let id = "profile-\(index)"
                let process = try ServerProcess(
                    "retain-profile",
                    arguments: [
                        "serve", "--data-dir", root.appendingPathComponent(id).path, "--log-level", "warning", "--ops-port=-1",
                        "--webhook-timeout-ms", "700", "--webhook-initial-backoff-ms", "50", "--webhook-max-backoff-ms", "300",
                        "--webhook-poll-ms", "20",
                    ])
                shards[id] = process
                instances.append(Topology.Instance(id: id, host: "127.0.0.1", port: process.port))
            }
            let file = root.appendingPathComponent("topology.json")
            try Topology(services: [Topology.Service(name: "retain.v1.Profile", instances: instances)]).encoded().write(to: file)
            gateway = try ServerProcess(
                "retain-gateway",
                arguments: ["--topology", file.path, "--health-interval-ms", "200", "--log-level", "warning", "--ops-port=-1"])
        }

        deinit {
            _ = gateway?.stop()
            for process in shards.values { _ = process.stop() }
            try? FileManager.default.removeItem(at: root)
        }
    }

    @Test("each treated member's touch is delivered signed, once per touch id, to the campaign's subscription; the holdout gets nothing")
    func touchesAreDelivered() async throws {
        let receiver = try WebhookReceiver(mode: "flaky")
        let suite = try Suite()
        let gateway = RPCClient(host: "127.0.0.1", port: suite.gateway!.port)
        let options = CallOptions(timeout: .seconds(20))

        // The campaign's endpoint, named by the campaign.
        let hook = try #require(
            try await gateway.unary(
                Retain_V1_Webhooks.createSubscription,
                .init(
                    service: "profile", url: receiver.url + "/crm", eventTypes: ["campaign_message"], secret: testSecret,
                    subscriptionId: "crm"), options: options
            ).subscription)
        _ = try await gateway.unary(
            Retain_V1_Profile.setContactPolicy,
            .init(
                policy: Retain_V1_ContactPolicy(channels: [
                    Retain_V1_ChannelCap(channel: .sms, enabled: false, cost: 5),
                    Retain_V1_ChannelCap(channel: .email, enabled: true, maxPerDay: 3, cost: 2),
                ]), actor: "ops"), options: options)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let users = (0..<60).map { "cw-\($0)" }
        for user in users {
            _ = try await gateway.unary(
                Retain_V1_Profile.registerUser, .init(userId: user, channel: "ads", registeredAtMs: now - 40 * 86_400_000), options: options
            )
        }
        var campaign = Retain_V1_Campaign(
            campaignId: "winback", description: "drifting", holdoutBasisPoints: 2_500, endAtMs: now + 86_400_000,
            channels: [.sms, .email], maxTouches: 1, message: "We miss you - 回来看看")
        campaign.webhookSubscriptionId = "nobody"
        let refused = await #expect(throws: RPCError.self) {
            _ = try await gateway.unary(Retain_V1_Profile.createCampaign, .init(campaign: campaign), options: options)
        }
        #expect(refused?.code == .invalidArgument && refused?.message.contains("webhook_subscription_id") == true)
        campaign.webhookSubscriptionId = hook.id
        _ = try await gateway.unary(Retain_V1_Profile.createCampaign, .init(campaign: campaign), options: options)
        let enrolled = try await gateway.unary(
            Retain_V1_Profile.enrollCampaignMembers, .init(campaignId: "winback", userIds: users), options: options)
        #expect(enrolled.touched == enrolled.treated && enrolled.treated > 0 && enrolled.holdout > 0)

        var treated = Set<String>()
        for user in users {
            let member = try await gateway.unary(
                Retain_V1_Profile.getCampaignMember, .init(userId: user, campaignId: "winback"), options: options)
            if member.member?.group == .treated { treated.insert(user) }
        }
        #expect(treated.count == Int(enrolled.treated))

        let drained = try await eventually(timeout: .seconds(60)) {
            try await gateway.unary(Retain_V1_Webhooks.listDeliveries, .init(service: "profile"), options: options).total == 0
        }
        #expect(drained, "campaign messages still pending")
        let requests = receiver.requests
        let others = requests.filter { !$0.path.hasSuffix("/crm") || $0.eventType != "campaign_message" }
        #expect(others.isEmpty, "other requests: \(others.prefix(3).map { "\($0.path) \($0.eventType) \($0.answered)" })")
        let expected = Set(treated.map { "campaign_message:campaign:winback:\($0):1" })
        _ = checkReceived(requests, service: "profile", subscription: hook.id, secret: testSecret, expectedEvents: expected)
        #expect(Set(requests.compactMap { $0.json["event_id"] as? String }) == expected, "only the treated members' touches")
        let bodies = requests.filter(\.acknowledged).compactMap { $0.json["data"] as? [String: Any] }
        #expect(bodies.allSatisfy { $0["channel"] as? String == "email" && $0["message"] as? String == "We miss you - 回来看看" })
        #expect(Set(bodies.compactMap { $0["user_id"] as? String }) == treated)
        #expect(try await gateway.unary(Retain_V1_Webhooks.listDeadLetters, .init(service: "profile"), options: options).total == 0)
        await gateway.close()
    }
}
