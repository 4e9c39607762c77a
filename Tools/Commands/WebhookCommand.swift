public import ArgumentParser
import Foundation
import RetainProto
import RetainRPC

/// `retain webhook`: manages a service's outbound webhooks (docs/WEBHOOKS.md) through the
/// gateway (or a service's own port): subscribe, list, delete, pending deliveries, dead letters,
/// redeliver. Prints each answer as JSON; exits with the call's status code.
public struct WebhookCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Manage a service's outbound webhooks: subscriptions, pending deliveries, dead letters.",
        subcommands: [Subscribe.self, List.self, Delete.self, Deliveries.self, DeadLetters.self, Redeliver.self])

    public init() {}

    /// What every subcommand takes: where to call, with which credential.
    struct Target: ParsableArguments {
        @Argument(help: "The service: profile, growth or feedback.") var service: String
        @OptionGroup var gateway: GatewayOptions

        func validate() throws {
            guard ["profile", "growth", "feedback"].contains(service) else {
                throw ValidationError("SERVICE must be profile, growth or feedback, not '\(service)'")
            }
        }

        /// Calls `method` with `request` and prints the answer as JSON.
        func call<I: ProtoMessage, O: ProtoMessage>(_ method: RPCMethod<I, O>, _ request: I) async throws {
            try await gateway.run { client in
                let answer = try await client.unary(method, request, options: gateway.callOptions)
                print(try ProtoJSON.decode(answer.serializedBytes(), as: O.messageDescriptor))
            }
        }
    }

    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Subscribe an endpoint to event types; prints the subscription with its signing secret (shown only now).")
        @OptionGroup var target: Target
        @Option(help: "The endpoint, an http:// or https:// URL.") var url: String
        @Option(
            name: .customLong("event"),
            help: "An event type (repeatable): level_change, feedback_status_changed, churn_warning, campaign_message.")
        var events: [String]
        @Option(help: "The signing secret (default: generated).") var secret = ""
        @Option(help: "The subscription id (default: generated).") var id = ""
        @Option(help: "Deliveries per second at most (default 10).") var rate: Double = 0
        @Option(help: "Deliveries at once after a quiet time (default: the rate rounded up).") var burst: UInt32 = 0
        @Option(help: "Free text for operators.") var description = ""

        func run() async throws {
            try await target.call(
                Retain_V1_Webhooks.createSubscription,
                .init(
                    service: target.service, url: url, eventTypes: events, secret: secret, subscriptionId: id, ratePerSecond: rate,
                    burst: burst, description: description))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the subscriptions (without their secrets).")
        @OptionGroup var target: Target

        func run() async throws {
            try await target.call(Retain_V1_Webhooks.listSubscriptions, .init(service: target.service))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a subscription with its pending deliveries and dead letters.")
        @OptionGroup var target: Target
        @Argument(help: "The subscription id.") var id: String

        func run() async throws {
            try await target.call(Retain_V1_Webhooks.deleteSubscription, .init(service: target.service, subscriptionId: id))
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pending deliveries, the next due first.")
        @OptionGroup var target: Target
        @Option(help: "Only this subscription's.") var subscription = ""
        @Option(help: "At most this many (1 to 1000).") var limit: UInt32 = 100

        func run() async throws {
            try await target.call(
                Retain_V1_Webhooks.listDeliveries, .init(service: target.service, subscriptionId: subscription, limit: limit))
        }
    }

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dead-letters", abstract: "List dead letters, the newest first.")
        @OptionGroup var target: Target
        @Option(help: "Only this subscription's.") var subscription = ""
        @Option(help: "At most this many (1 to 1000).") var limit: UInt32 = 100

        func run() async throws {
            try await target.call(
                Retain_V1_Webhooks.listDeadLetters, .init(service: target.service, subscriptionId: subscription, limit: limit))
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead letters back to pending (the ids given, or every one of --subscription); they keep their ids.")
        @OptionGroup var target: Target
        @Argument(help: "Delivery ids.") var ids: [String] = []
        @Option(help: "With no ids: every dead letter of this subscription.") var subscription = ""

        func validate() throws {
            guard !ids.isEmpty || !subscription.isEmpty else { throw ValidationError("give delivery ids or --subscription") }
        }

        func run() async throws {
            try await target.call(
                Retain_V1_Webhooks.redeliver, .init(service: target.service, deliveryIds: ids, subscriptionId: subscription))
        }
    }
}
