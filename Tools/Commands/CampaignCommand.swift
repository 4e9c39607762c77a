public import ArgumentParser
import Foundation
import RetainProto
import RetainRPC
import RetainWire

/// `retain campaign`: recall campaigns through the gateway (docs/CAMPAIGNS.md). Exits with the
/// call's status code on failure (14 when the gateway cannot be reached).
public struct CampaignCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Create, enroll, follow and measure recall campaigns.",
        subcommands: [
            CampaignCreateCommand.self, CampaignEnrollCommand.self, CampaignListCommand.self, CampaignStatusCommand.self,
            CampaignResultsCommand.self, CampaignCancelCommand.self,
        ])

    public init() {}

    /// A time given as Unix ms or ISO-8601 (`2026-12-24T08:00:00Z`).
    static func time(_ text: String, option: String) throws -> Int64 {
        if let ms = Int64(text) { return ms }
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) else {
            throw ValidationError("\(option) must be Unix milliseconds or an ISO-8601 time such as 2026-12-24T08:00:00Z")
        }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    /// A percentage of the holdout (`10%`, `10` or `12.5`) as basis points.
    static func basisPoints(_ text: String) throws -> UInt32 {
        let number = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Double(number), value >= 0, value <= 90 else {
            throw ValidationError("--holdout must be a percentage from 0 to 90, such as 10%")
        }
        return UInt32((value * 100).rounded())
    }

    /// A contact channel by its name.
    static func channel(_ name: String) throws -> Retain_V1_ContactChannel {
        let known: [String: Retain_V1_ContactChannel] = ["sms": .sms, "push": .push, "email": .email, "in_app": .inApp, "call": .call]
        guard let channel = known[name.lowercased()] else {
            throw ValidationError("unknown channel '\(name)': sms, push, email, in_app or call")
        }
        return channel
    }

    /// A channel's name.
    static func name(of channel: Retain_V1_ContactChannel) -> String {
        channel.unprefixedName?.lowercased() ?? "\(channel.rawValue)"
    }

    /// `message` as JSON.
    static func json(_ message: some ProtoMessage) throws -> String {
        try ProtoJSON.decode(message.serializedBytes(), as: type(of: message).messageDescriptor)
    }
}

/// `retain campaign create ID ...`.
public struct CampaignCreateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a recall campaign.")

    @Argument(help: "The campaign's id.") var id: String
    @Option(help: "The saved segment whose members the campaign enrolls when it starts.") var segment: String = ""
    @Option(help: "Share kept out as control, a percentage (e.g. 10%).") var holdout: String = "10%"
    @Option(help: "When touching starts: Unix ms or ISO-8601; default now.") var start: String?
    @Option(help: "When the campaign ends: Unix ms or ISO-8601.") var end: String?
    @Option(help: "Or: days from the start to the end.") var days: Int?
    @Option(help: "Candidate channels, comma-separated, e.g. push,email,sms.") var channels: String = "push,email"
    @Option(name: .customLong("return-kind"), help: "The activity kind that counts as a return.") var returnKind: String = "login"
    @Option(help: "Touches per treated user (1-10).") var touches: UInt32 = 1
    @Option(name: .customLong("interval-days"), help: "Days between a user's touches.") var intervalDays: UInt32 = 3
    @Option(help: "Return reward, VALUE:ASSET (e.g. 100:points).") var reward: String?
    @Option(help: "The ledger budget the reward is paid from.") var budget: String = ""
    @Option(help: "The message sent with each touch.") var message: String = ""
    @Option(
        help:
            "The Profile webhook subscription each touch is delivered to (retain webhook subscribe --service profile); default: every subscriber of campaign_message."
    ) var webhook: String = ""
    @Option(help: "What the campaign is for.") var description: String = ""
    @OptionGroup var gateway: GatewayOptions

    public init() {}

    public func validate() throws {
        guard (end == nil) != (days == nil) else { throw ValidationError("give --end or --days") }
        if reward != nil, budget.isEmpty { throw ValidationError("--reward needs --budget") }
    }

    public func run() async throws {
        var campaign = Retain_V1_Campaign(
            campaignId: id, description: description, segment: segment, holdoutBasisPoints: try CampaignCommand.basisPoints(holdout),
            channels: try channels.split(separator: ",").map { try CampaignCommand.channel(String($0)) }, returnKind: returnKind,
            maxTouches: touches, touchIntervalDays: intervalDays, rewardBudget: budget, message: message)
        let startMs = try start.map { try CampaignCommand.time($0, option: "--start") } ?? Int64(Date().timeIntervalSince1970 * 1000)
        campaign.startAtMs = start == nil ? 0 : startMs
        campaign.webhookSubscriptionId = webhook
        campaign.endAtMs = try end.map { try CampaignCommand.time($0, option: "--end") } ?? startMs + Int64(days ?? 0) * 86_400_000
        if let reward {
            let parts = reward.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let value = Int64(parts[0]) else {
                throw ValidationError("--reward must be VALUE:ASSET, e.g. 100:points")
            }
            campaign.reward = Retain_V1_Amount(value: value, asset: String(parts[1]))
        }
        try await gateway.run { client in
            let answer = try await client.unary(
                Retain_V1_Profile.createCampaign, .init(campaign: campaign), options: gateway.callOptions)
            print(answer.replayed ? "campaign \(id) already exists with this definition" : "campaign \(id) created")
        }
    }
}

/// `retain campaign enroll ID [USER...] [--file PATH]`.
public struct CampaignEnrollCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "enroll", abstract: "Enroll users in a campaign (each gets its group; treated users are touched once it started).")

    @Argument(help: "The campaign's id.") var id: String
    @Argument(help: "User ids.") var users: [String] = []
    @Option(help: "A file with one user id per line ('-' reads standard input).") var file: String?
    @Flag(help: "Also record that the audience is now completely enrolled.") var complete = false
    @OptionGroup var gateway: GatewayOptions

    public init() {}

    public func run() async throws {
        var all = users
        if let file {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            all += String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        guard !all.isEmpty || complete else { throw ValidationError("name users, give --file, or --complete") }
        try await gateway.run { client in
            var total = Retain_V1_EnrollCampaignMembersResponse()
            var start = 0
            while start < all.count {
                let part = Array(all[start..<min(start + 10_000, all.count)])
                let answer = try await client.unary(
                    Retain_V1_Profile.enrollCampaignMembers, .init(campaignId: id, userIds: part), options: gateway.callOptions)
                total.treated += answer.treated
                total.holdout += answer.holdout
                total.alreadyEnrolled += answer.alreadyEnrolled
                total.touched += answer.touched
                for skipped in answer.skipped { print("skipped \(part[Int(skipped.index)]): \(skipped.message)") }
                start += part.count
            }
            if complete {
                _ = try await client.unary(Retain_V1_Profile.markCampaignEnrolled, .init(campaignId: id), options: gateway.callOptions)
            }
            print(
                "treated \(total.treated), holdout \(total.holdout), already enrolled \(total.alreadyEnrolled), touched now \(total.touched)"
            )
        }
    }
}

/// `retain campaign list`.
public struct CampaignListCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List every campaign with its progress.")

    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var gateway: GatewayOptions

    public init() {}

    public func run() async throws {
        try await gateway.run { client in
            let answer = try await client.unary(Retain_V1_Profile.listCampaigns, .init(), options: gateway.callOptions)
            if json { return print(try CampaignCommand.json(answer)) }
            for status in answer.campaigns { print(CampaignStatusCommand.line(status)) }
        }
    }
}

/// `retain campaign status ID`.
public struct CampaignStatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "status", abstract: "A campaign's definition and progress.")

    @Argument(help: "The campaign's id.") var id: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var gateway: GatewayOptions

    public init() {}

    static func line(_ status: Retain_V1_GetCampaignResponse) -> String {
        let campaign = status.campaign ?? .init()
        let state = status.cancelled ? "cancelled" : status.enrolled ? "enrolled" : "enrolling"
        return "\(campaign.campaignId)  \(state)  members \(status.members)  touched \(status.touched)  returned \(status.returned)"
    }

    public func run() async throws {
        try await gateway.run { client in
            let answer = try await client.unary(Retain_V1_Profile.getCampaign, .init(campaignId: id), options: gateway.callOptions)
            print(json ? try CampaignCommand.json(answer) : Self.line(answer))
        }
    }
}

/// `retain campaign results ID`.
public struct CampaignResultsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "results", abstract: "Recall of the treated against the holdout, lift with its 95% interval, and costs.")

    @Argument(help: "The campaign's id.") var id: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var gateway: GatewayOptions

    public init() {}

    /// The results as an operator reads them.
    static func text(_ results: Retain_V1_GetCampaignResultsResponse) -> String {
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        func points(_ value: Double) -> String { String(format: "%+.1f pp", value * 100) }
        let treated = results.treated ?? .init()
        let holdout = results.holdout ?? .init()
        var lines = [
            "campaign \(results.campaignId)",
            "  treated  \(treated.members) members, \(treated.returned) came back (\(percent(treated.recallRate)))",
            "  holdout  \(holdout.members) members, \(holdout.returned) came back (\(percent(holdout.recallRate)))",
            "  lift     \(points(results.lift)), 95% interval [\(points(results.liftCiLow)), \(points(results.liftCiHigh))]"
                + (results.significant ? ", significant" : ", not significant"),
            "  brought back \(String(format: "%.1f", results.incrementalReturns)) users",
        ]
        let channels = results.channels.map { "\(CampaignCommand.name(of: $0.channel)) \($0.touches)" }.joined(separator: ", ")
        lines.append("  touches  \(results.touches) (\(channels.isEmpty ? "none" : channels)), cost \(results.touchCost)")
        if let due = results.rewardsDue { lines.append("  rewards  \(due.value) \(due.asset)") }
        lines.append(
            "  cost per recalled user \(String(format: "%.2f", results.costPerRecalledUser)), per user brought back "
                + (results.costPerIncrementalReturn > 0 ? String(format: "%.2f", results.costPerIncrementalReturn) : "n/a"))
        return lines.joined(separator: "\n")
    }

    public func run() async throws {
        try await gateway.run { client in
            let answer = try await client.unary(Retain_V1_Profile.getCampaignResults, .init(campaignId: id), options: gateway.callOptions)
            print(json ? try CampaignCommand.json(answer) : Self.text(answer))
        }
    }
}

/// `retain campaign cancel ID`.
public struct CampaignCancelCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a campaign: no touch after, later returns do not count.")

    @Argument(help: "The campaign's id.") var id: String
    @OptionGroup var gateway: GatewayOptions

    public init() {}

    public func run() async throws {
        try await gateway.run { client in
            _ = try await client.unary(Retain_V1_Profile.cancelCampaign, .init(campaignId: id), options: gateway.callOptions)
            print("campaign \(id) cancelled")
        }
    }
}
