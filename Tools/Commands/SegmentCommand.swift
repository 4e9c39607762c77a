public import ArgumentParser
import Foundation
import RetainProto
import RetainRPC

/// `retain segment`: saved segments through the gateway: define them (Profile keeps them on
/// every shard), count and list their members across every shard and service, export them.
public struct SegmentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Define saved segments; count, list and export their members through the gateway.",
        discussion: """
            A saved segment is a named rule over Profile's attributes, tags, channel, lifecycle stage,
            activity and purchase sums, Growth's level and points, and Ledger balances (docs/PROFILE.md,
            "Saved segments"). The rule file is the JSON form of retain.v1.SegmentRule, e.g.
              {"all": [{"tag": {"tag": "vip"}},
                       {"activity": {"kind": "purchase", "days": 30, "minCount": 2}},
                       {"none": [{"channel": {"channels": ["paid_ads"]}}]},
                       {"balance": {"asset": "points", "hasMin": true, "minValue": 500}}]}
            Writes need an admin credential. Exit status: the call's status code (0 OK, 3
            INVALID_ARGUMENT, 5 NOT_FOUND, 6 ALREADY_EXISTS, 14 UNAVAILABLE, ...).
            """,
        subcommands: [
            SegmentCreateCommand.self, SegmentUpdateCommand.self, SegmentListCommand.self, SegmentShowCommand.self,
            SegmentDeleteCommand.self, SegmentCountCommand.self, SegmentMembersCommand.self, SegmentExportCommand.self,
        ])

    public init() {}
}

/// `--as-of TIME`: Unix ms, or an ISO 8601 time (2026-12-01T00:00:00Z).
struct AsOfOption: ParsableArguments, Sendable {
    @Option(name: .customLong("as-of"), help: "Membership as of TIME: Unix ms or ISO 8601 (2026-12-01T00:00:00Z); default now.")
    var asOf: String?

    init() {}

    func validate() throws { _ = try milliseconds() }

    /// The time in Unix ms; 0 for now.
    func milliseconds() throws -> Int64 {
        guard let asOf else { return 0 }
        if let value = Int64(asOf), value > 0 { return value }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        guard let date = formatter.date(from: asOf) ?? plain.date(from: asOf) else {
            throw ValidationError("--as-of must be Unix ms or an ISO 8601 time such as 2026-12-01T00:00:00Z, not '\(asOf)'")
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}

/// Reads a rule file (or standard input for "-") as retain.v1.SegmentRule JSON.
func readSegmentRule(_ path: String) throws -> Retain_V1_SegmentRule {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: path) else { throw ValidationError("--rule: cannot read \(path)") }
        data = contents
    }
    do {
        let bytes = try ProtoJSON.encode(json: String(decoding: data, as: UTF8.self), as: Retain_V1_SegmentRule.messageDescriptor)
        return try Retain_V1_SegmentRule(serializedBytes: bytes)
    } catch {
        throw ValidationError("--rule \(path): not a retain.v1.SegmentRule in JSON: \(error)")
    }
}

/// Prints a message as proto3 JSON.
func printJSON<Message: ProtoMessage>(_ message: Message) throws {
    print(try ProtoJSON.decode(message.serializedBytes(), as: Message.messageDescriptor))
}

/// `retain segment create NAME --rule FILE`.
public struct SegmentCreateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a saved segment from a rule file (JSON); print the stored definition.")
    @Argument(help: "The segment's name ([a-z0-9_.-], 1 to 64 bytes).") var name: String
    @Option(help: "The rule as JSON (retain.v1.SegmentRule); '-' reads standard input.") var rule: String
    @Option(help: "What the segment is for.") var description: String = ""
    @Option(help: "Who makes the change (recorded with the version).") var actor: String = "operator"
    @OptionGroup var gateway: GatewayOptions
    public init() {}

    public func run() async throws {
        let rule = try readSegmentRule(rule)
        try await gateway.run { client in
            let answer = try await client.unary(
                Retain_V1_Profile.putSavedSegment,
                Retain_V1_PutSavedSegmentRequest(
                    segment: Retain_V1_SavedSegment(name: name, description: description, rule: rule), create: true, actor: actor),
                options: gateway.callOptions)
            try printJSON(answer)
        }
    }
}

/// `retain segment update NAME --rule FILE`.
public struct SegmentUpdateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Replace a saved segment's rule and description; print the new version.")
    @Argument(help: "The segment's name.") var name: String
    @Option(help: "The new rule as JSON; '-' reads standard input.") var rule: String
    @Option(help: "The new description (default: none).") var description: String = ""
    @Option(name: .customLong("expected-version"), help: "Replace only if the stored version is this.") var expectedVersion: UInt64 = 0
    @Option(help: "Who makes the change.") var actor: String = "operator"
    @OptionGroup var gateway: GatewayOptions
    public init() {}

    public func run() async throws {
        let rule = try readSegmentRule(rule)
        try await gateway.run { client in
            let answer = try await client.unary(
                Retain_V1_Profile.putSavedSegment,
                Retain_V1_PutSavedSegmentRequest(
                    segment: Retain_V1_SavedSegment(name: name, description: description, rule: rule),
                    expectedVersion: expectedVersion, actor: actor),
                options: gateway.callOptions)
            try printJSON(answer)
        }
    }
}

/// `retain segment list`.
public struct SegmentListCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the saved segments: name, version, updated by and when, description.")
    @OptionGroup var gateway: GatewayOptions
    @Flag(help: "Print the answer as JSON.") var json = false
    public init() {}

    public func run() async throws {
        try await gateway.run { client in
            let answer = try await client.unary(
                Retain_V1_Profile.listSavedSegments, Retain_V1_ListSavedSegmentsRequest(), options: gateway.callOptions)
            if json { return try printJSON(answer) }
            for segment in answer.segments {
                let updated = Date(timeIntervalSince1970: Double(segment.updatedAtMs) / 1000)
                print("\(segment.name)\tv\(segment.version)\t\(segment.updatedBy)\t\(updated)\t\(segment.description)")
            }
        }
    }
}

/// `retain segment show NAME`.
public struct SegmentShowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a saved segment's definition as JSON.")
    @Argument(help: "The segment's name.") var name: String
    @OptionGroup var gateway: GatewayOptions
    public init() {}

    public func run() async throws {
        try await gateway.run { client in
            try printJSON(
                try await client.unary(
                    Retain_V1_Profile.getSavedSegment, Retain_V1_GetSavedSegmentRequest(name: name), options: gateway.callOptions))
        }
    }
}

/// `retain segment delete NAME`.
public struct SegmentDeleteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a saved segment.")
    @Argument(help: "The segment's name.") var name: String
    @Option(help: "Who deletes it.") var actor: String = "operator"
    @OptionGroup var gateway: GatewayOptions
    public init() {}

    public func run() async throws {
        try await gateway.run { client in
            try printJSON(
                try await client.unary(
                    Retain_V1_Profile.deleteSavedSegment, Retain_V1_DeleteSavedSegmentRequest(name: name, actor: actor),
                    options: gateway.callOptions))
        }
    }
}

/// `retain segment count NAME [--as-of TIME]`.
public struct SegmentCountCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "count", abstract: "Print how many users are members of a saved segment (now or as of a time).")
    @Argument(help: "The segment's name.") var name: String
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var gateway: GatewayOptions
    public init() {}

    public func run() async throws {
        let time = try asOf.milliseconds()
        try await gateway.run { client in
            let answer = try await client.unary(
                Retain_V1_Gateway.countSavedSegment, Retain_V1_CountSavedSegmentRequest(name: name, asOfMs: time),
                options: gateway.callOptions)
            print(answer.count)
        }
    }
}

/// `retain segment members NAME`: one page, as JSON.
public struct SegmentMembersCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "members", abstract: "Print one page of a saved segment's members as JSON (next_page_token for the next).")
    @Argument(help: "The segment's name.") var name: String
    @OptionGroup var asOf: AsOfOption
    @Option(name: .customLong("page-size"), help: "Members per page, 1 to 1000.") var pageSize: UInt32 = 50
    @Option(name: .customLong("page-token"), help: "The previous page's next_page_token.") var pageToken: String = ""
    @OptionGroup var gateway: GatewayOptions
    public init() {}

    public func run() async throws {
        let time = try asOf.milliseconds()
        try await gateway.run { client in
            try printJSON(
                try await client.unary(
                    Retain_V1_Gateway.listSavedSegmentMembers,
                    Retain_V1_ListSavedSegmentMembersRequest(
                        name: name, asOfMs: time, page: Retain_V1_PageRequest(pageSize: pageSize, pageToken: pageToken)),
                    options: gateway.callOptions))
        }
    }
}

/// `retain segment export NAME [--format csv|jsonl]`: every member, page by page, to standard
/// output (only one page is held at a time).
public struct SegmentExportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every member of a saved segment to standard output: user id and the fields its rule tests.",
        discussion: """
            Streams the members page by page (ListSavedSegmentMembers), holding one page at a time:
              retain segment export lapsed_vips > users.csv
            CSV has a header line: user_id, then one column per predicate of the rule (see
            ListSavedSegmentMembersResponse.columns). JSON lines: one object per member with the same keys.
            """)
    @Argument(help: "The segment's name.") var name: String
    @Option(help: "csv or jsonl.") var format: SegmentExportFormat = .csv
    @OptionGroup var asOf: AsOfOption
    @Option(name: .customLong("page-size"), help: "Members per call, 1 to 1000.") var pageSize: UInt32 = 1000
    @OptionGroup var gateway: GatewayOptions
    public init() {}

    public func validate() throws {
        guard (1...1000).contains(pageSize) else { throw ValidationError("--page-size must be 1 to 1000") }
    }

    public func run() async throws {
        let time = try asOf.milliseconds()
        try await gateway.run { client in
            var token = ""
            var headerWritten = false
            repeat {
                let page = try await client.unary(
                    Retain_V1_Gateway.listSavedSegmentMembers,
                    Retain_V1_ListSavedSegmentMembersRequest(
                        name: name, asOfMs: time, page: Retain_V1_PageRequest(pageSize: pageSize, pageToken: token)),
                    options: gateway.callOptions)
                var text = ""
                if !headerWritten, format == .csv {
                    text += SegmentExportFormat.csvLine(["user_id"] + page.columns)
                }
                headerWritten = true
                for member in page.members {
                    text += format.line(member, columns: page.columns)
                }
                FileHandle.standardOutput.write(Data(text.utf8))
                token = page.pageInfo?.nextPageToken ?? ""
            } while !token.isEmpty
        }
    }
}

/// The formats of `retain segment export`.
enum SegmentExportFormat: String, ExpressibleByArgument, Sendable {
    case csv, jsonl

    /// One member's line.
    func line(_ member: Retain_V1_SegmentMember, columns: [String]) -> String {
        switch self {
        case .csv:
            return Self.csvLine([member.userId] + member.values)
        case .jsonl:
            var object: [String: String] = ["user_id": member.userId]
            for (column, value) in zip(columns, member.values) { object[column] = value }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }

    /// Fields joined by commas, quoted where RFC 4180 needs it.
    static func csvLine(_ fields: [String]) -> String {
        fields.map { field in
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\n"
    }
}
