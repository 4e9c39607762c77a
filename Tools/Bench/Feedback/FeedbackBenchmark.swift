package import ArgumentParser
import Foundation
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC

/// `retain-bench feedback`: starts its own `retain-feedback` (durability always: fsync before every
/// answer), measures submits per second over the wire at the given concurrency, fills the
/// service to a million items with a realistic workflow (resolved, closed, triaged, assigned,
/// in progress, new), then measures list and search latency for typical filters, and the time
/// to restart with everything.
package struct FeedbackBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "feedback", abstract: "Submits/s over the wire, then list/search latency with a million items.")

    @Option(help: "Items to fill the service with.") var items: Int = 1_000_000
    @Option(help: "Seconds of the submit throughput measurement.") var duration: Int = 10
    @Option(help: "Concurrent calls (one connection).") var concurrency: Int = 64
    @Option(help: "Calls per query latency measurement.") var queries: Int = 200
    @Option(help: "Distinct users.") var users: Int = 100_000

    package init() {}

    package func run() async throws {
        let directory = try makeTemporaryDirectory("feedback-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDirectory = directory.appendingPathComponent("data").path
        var server = try ServerProcess("retain-feedback", arguments: ["serve", "--data-dir", dataDirectory, "--log-level", "warning"])
        var configuration = RPCClient.Configuration()
        configuration.compressionThreshold = nil
        configuration.maximumPayloadSize = 64 << 20
        let workload = BenchWorkload(nowMs: Int64(Date().timeIntervalSince1970 * 1000), users: users, items: items)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print(
            "retain-bench feedback: \(cores) cores shared by client and server, durability always (fsync before every answer), one connection"
        )

        // 1. Submits per second.
        let (submitted, submittedIDs) = try await Self.submitLoad(
            port: server.port, workload: workload, limit: items,
            concurrency: concurrency, seconds: Double(duration))
        print(
            "submit: \(submitted.calls) items in \(String(format: "%.1f", submitted.seconds)) s at concurrency \(concurrency): "
                + "\(Int(Double(submitted.calls) / submitted.seconds)) submits/s, p50 \(ms(submitted.p50)) ms, p99 \(ms(submitted.p99)) ms")

        // 2. Fill to `items` with the workflow of each item.
        let fillStart = ContinuousClock.now
        let calls = try await Self.fill(
            port: server.port, workload: workload, limit: items, concurrency: concurrency,
            submitted: submittedIDs)
        let fillSeconds = Self.seconds(ContinuousClock.now - fillStart)
        print(
            "fill: \(items) items in all, \(calls) more calls (submits and workflow changes) in \(String(format: "%.1f", fillSeconds)) s "
                + "(\(Int(Double(calls) / fillSeconds)) calls/s); server RSS \(Self.residentMegabytes(server.process.processIdentifier)) MB"
        )

        // 3. List and search latency.
        print("")
        print("list/search latency with \(items) items, one call at a time over the wire, pages of 50, \(queries) calls each")
        var rows: [[String]] = []
        func record(_ name: String, _ summary: Summary) {
            rows.append([name, ms(summary.p50), ms(summary.p99), String(summary.lastTotal)])
        }
        func list(_ filter: Retain_V1_FeedbackFilter, _ sort: Retain_V1_FeedbackSort) -> Retain_V1_ListFeedbackRequest {
            Retain_V1_ListFeedbackRequest(filter: filter, sort: sort, page: Retain_V1_PageRequest(pageSize: 50))
        }
        let open: [Retain_V1_FeedbackStatus] = [.new, .triaged, .assigned, .inProgress, .reopened]
        let cases: [(String, Retain_V1_ListFeedbackRequest)] = [
            ("all, newest first", list(Retain_V1_FeedbackFilter(), .newest)),
            ("status NEW, newest first", list(Retain_V1_FeedbackFilter(statuses: [.new]), .newest)),
            ("open statuses, by priority", list(Retain_V1_FeedbackFilter(statuses: open), .priority)),
            ("team billing + open, by priority", list(Retain_V1_FeedbackFilter(statuses: open, teams: ["billing"]), .priority)),
            (
                "kind complaint + priority urgent+important",
                list(Retain_V1_FeedbackFilter(kinds: [.complaint], priorities: [.urgentImportant]), .newest)
            ),
            ("overdue only, by due time", list(Retain_V1_FeedbackFilter(overdueOnly: true), .due)),
            ("overdue + team logistics, by due time", list(Retain_V1_FeedbackFilter(teams: ["logistics"], overdueOnly: true), .due)),
            ("assignee agent7", list(Retain_V1_FeedbackFilter(assignee: "agent7"), .newest)),
            ("compensation OWED", list(Retain_V1_FeedbackFilter(compensationState: .owed), .oldest)),
            (
                "search 'charged me twice' in complaints",
                list(Retain_V1_FeedbackFilter(kinds: [.complaint], textContains: "charged me twice"), .newest)
            ),
            ("search 'blank page', all items", list(Retain_V1_FeedbackFilter(textContains: "blank page"), .newest)),
        ]
        let port = server.port
        let users = users
        for (name, request) in cases {
            record(
                name,
                try await Self.measure(port, queries, Retain_V1_Feedback.listFeedback, { _ in request }) {
                    $0.pageInfo?.total ?? 0
                })
        }
        record(
            "user's items (random user)",
            try await Self.measure(
                port, queries, Retain_V1_Feedback.listFeedback,
                { round in
                    Retain_V1_ListFeedbackRequest(
                        filter: Retain_V1_FeedbackFilter(userId: "user\((round * 7919) % users)"),
                        sort: .newest, page: Retain_V1_PageRequest(pageSize: 50))
                }
            ) { $0.pageInfo?.total ?? 0 })
        let deep = try await Self.pages(
            port, rounds: max(queries / 10, 5), pages: 20,
            first: list(Retain_V1_FeedbackFilter(statuses: [.new]), .newest))
        rows.append(["status NEW, 20 pages following tokens (per page)", ms(deep.p50 / 20), ms(deep.p99 / 20), String(deep.lastTotal)])
        record(
            "ListOverdue, all teams",
            try await Self.measure(
                port, queries, Retain_V1_Feedback.listOverdue,
                { _ in
                    Retain_V1_ListOverdueRequest(page: .init(pageSize: 50))
                }
            ) { $0.pageInfo?.total ?? 0 })
        record(
            "ListOverdue, team support",
            try await Self.measure(
                port, queries, Retain_V1_Feedback.listOverdue,
                { _ in
                    Retain_V1_ListOverdueRequest(teams: ["support"], page: .init(pageSize: 50))
                }
            ) { $0.pageInfo?.total ?? 0 })
        record(
            "GetUserFeedbackHistory",
            try await Self.measure(
                port, queries, Retain_V1_Feedback.getUserFeedbackHistory,
                { round in
                    Retain_V1_GetUserFeedbackHistoryRequest(userId: "user\((round * 104_729) % users)")
                }
            ) { $0.totalItems })
        record(
            "GetFaq (first page)",
            try await Self.measure(
                port, max(queries / 4, 5), Retain_V1_Feedback.getFaq,
                { _ in
                    Retain_V1_GetFaqRequest()
                }
            ) { $0.pageInfo?.total ?? 0 })
        record(
            "GetFeedbackStats (30 days)",
            try await Self.measure(
                port, max(queries / 4, 5), Retain_V1_Feedback.getFeedbackStats,
                { _ in
                    Retain_V1_GetFeedbackStatsRequest()
                }
            ) { $0.openTotal })
        Self.printTable(["query", "p50 ms", "p99 ms", "matches"], rows)

        // 4. Restart with everything.
        print("")
        let stopped = ContinuousClock.now
        let status = server.stop()
        let stopSeconds = Self.seconds(ContinuousClock.now - stopped)
        let started = ContinuousClock.now
        server = try ServerProcess(
            "retain-feedback", arguments: ["serve", "--data-dir", dataDirectory, "--log-level", "warning"],
            timeout: .seconds(600))
        let startSeconds = Self.seconds(ContinuousClock.now - started)
        let client = RPCClient(host: "127.0.0.1", port: server.port, configuration: configuration)
        let after = try await client.unary(Retain_V1_Feedback.listFeedback, list(Retain_V1_FeedbackFilter(), .newest))
        print(
            "restart: SIGTERM exit \(status) in \(String(format: "%.1f", stopSeconds)) s; recovered \(after.pageInfo?.total ?? 0) items "
                + "and listening again in \(String(format: "%.1f", startSeconds)) s; RSS \(Self.residentMegabytes(server.process.processIdentifier)) MB"
        )
        await client.close()
        server.stop()
    }

    /// Latencies of a run, in nanoseconds.
    struct Summary {
        var calls: Int
        var p50: UInt64
        var p99: UInt64
        var lastTotal: UInt64
        var seconds = 0.0

        init(_ latencies: [UInt64], lastTotal: UInt64 = 0) {
            let sorted = latencies.sorted()
            calls = sorted.count
            p50 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count / 2)]
            p99 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            self.lastTotal = lastTotal
        }
    }

    /// `concurrency` calls in flight on one connection submitting new items (numbered from 0)
    /// back to back for `seconds`. Returns the latencies and the id of every item submitted, by
    /// item number.
    static func submitLoad(
        port: Int, workload: BenchWorkload, limit: Int, concurrency: Int,
        seconds: Double
    ) async throws -> (Summary, [Int: String]) {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.callsInFlight = concurrency
        configuration.deadline = .now() + .milliseconds(Int64(seconds * 1000))
        configuration.recordLatencies = true
        let report = try await PipelinedClient.run(configuration) { _ in
            NumberedCalls(
                connection: 0, connections: 1, total: limit, state: [Int: String](),
                makeRequest: { index in
                    PipelinedClient.requestFrame(Retain_V1_Feedback.submitFeedback, workload.submission(index))
                }
            ) { index, frame, ids in
                try frame.requireOK()
                ids[index] = try frame.payload.decodeProtoMessage(Retain_V1_SubmitFeedbackResponse.self).item?.itemId ?? ""
            }
        }
        var summary = Summary(report.latencies)
        summary.seconds = report.seconds
        return (summary, report.connections.first?.state ?? [:])
    }

    /// Submits the items after those of the throughput run up to `limit` and runs the workflow
    /// of every item (those of the throughput run first, whose ids are in `submitted`), with
    /// `concurrency` calls in flight on one connection; returns the number of calls.
    static func fill(
        port: Int, workload: BenchWorkload, limit: Int, concurrency: Int,
        submitted: [Int: String]
    ) async throws -> Int {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.callsInFlight = concurrency
        let report = try await PipelinedClient.run(configuration) { _ in
            WorkflowCalls(workload: workload, submitted: submitted, limit: limit)
        }
        return report.calls
    }

    /// `count` calls of `method` one after the other on one connection, call `round` sending
    /// `request(round)`; `total` reads the match count from an answer (the last one is kept).
    static func measure<Input, Output>(
        _ port: Int, _ count: Int, _ method: RPCMethod<Input, Output>, _ request: @escaping @Sendable (Int) -> Input,
        total: @escaping @Sendable (Output) -> UInt64
    ) async throws -> Summary {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.recordLatencies = true
        let report = try await PipelinedClient.run(configuration) { _ in
            NumberedCalls(
                connection: 0, connections: 1, total: count, state: UInt64(0),
                makeRequest: { round in
                    PipelinedClient.requestFrame(method, request(round))
                }
            ) { _, frame, last in
                try frame.requireOK()
                last = total(try frame.payload.decodeProtoMessage(Output.self))
            }
        }
        return Summary(report.latencies, lastTotal: report.connections.first?.state ?? 0)
    }

    /// `rounds` walks of `pages` pages each, one call at a time, each page asking for the one
    /// after the last answer's `next_page_token`; the latency of a round is that of its pages.
    static func pages(_ port: Int, rounds: Int, pages: Int, first: Retain_V1_ListFeedbackRequest) async throws -> Summary {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.recordLatencies = true
        let report = try await PipelinedClient.run(configuration) { _ in
            PageWalk(first: first, pages: pages, rounds: rounds)
        }
        // One call in flight: the latencies are in call order, `pages` to a round.
        let latencies = stride(from: 0, to: report.latencies.count, by: pages).map { start in
            report.latencies[start..<min(start + pages, report.latencies.count)].reduce(0, +)
        }
        return Summary(latencies, lastTotal: report.connections.first?.total ?? 0)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }

    static func seconds(_ duration: Duration) -> Double { Double(nanoseconds(duration)) / 1e9 }

    static func residentMegabytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    static func printTable(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0
                    ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows { print(line(row)) }
    }
}

/// Milliseconds with two decimals.
private func ms(_ nanoseconds: UInt64) -> String { String(format: "%.2f", Double(nanoseconds) / 1e6) }
