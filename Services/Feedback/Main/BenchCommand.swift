import ArgumentParser
import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import Synchronization

/// `retain-feedback bench`: starts its own server (durability always: fsync before every
/// answer), measures submits per second over the wire at the given concurrency, fills the
/// service to a million items with a realistic workflow (resolved, closed, triaged, assigned,
/// in progress, new), then measures list and search latency for typical filters, and the time
/// to restart with everything.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Submits/s over the wire, then list/search latency with a million items.")

    @Option(help: "Items to fill the service with.") var items: Int = 1_000_000
    @Option(help: "Seconds of the submit throughput measurement.") var duration: Int = 10
    @Option(help: "Concurrent calls (one connection).") var concurrency: Int = 64
    @Option(help: "Calls per query latency measurement.") var queries: Int = 200
    @Option(help: "Distinct users.") var users: Int = 100_000

    func run() async throws {
        let directory = try makeTemporaryDirectory("feedback-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDirectory = directory.appendingPathComponent("data").path
        var server = try ServerProcess("retain-feedback", arguments: ["serve", "--data-dir", dataDirectory, "--log-level", "warning"])
        var configuration = RPCClient.Configuration()
        configuration.compressionThreshold = nil
        configuration.maximumPayloadSize = 64 << 20
        var client = RPCClient(host: "127.0.0.1", port: server.port, configuration: configuration)
        let workload = BenchWorkload(nowMs: Int64(Date().timeIntervalSince1970 * 1000), users: users, items: items)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("retain-feedback bench: \(cores) cores shared by client and server, durability always (fsync before every answer), one connection")

        // 1. Submits per second.
        let next = Counter()
        let (submitted, submittedIDs) = try await Self.submitLoad(client: client, workload: workload, next: next, limit: items,
                                                                  concurrency: concurrency, seconds: Double(duration))
        print("submit: \(submitted.calls) items in \(String(format: "%.1f", submitted.seconds)) s at concurrency \(concurrency): "
            + "\(Int(Double(submitted.calls) / submitted.seconds)) submits/s, p50 \(ms(submitted.p50)) ms, p99 \(ms(submitted.p99)) ms")

        // 2. Fill to `items` with the workflow of each item.
        let fillStart = ContinuousClock.now
        let calls = try await Self.fill(client: client, workload: workload, next: next, limit: items, concurrency: concurrency,
                                        submitted: submittedIDs)
        let fillSeconds = Self.seconds(ContinuousClock.now - fillStart)
        print("fill: \(items) items in all, \(calls) more calls (submits and workflow changes) in \(String(format: "%.1f", fillSeconds)) s "
            + "(\(Int(Double(calls) / fillSeconds)) calls/s); server RSS \(Self.residentMegabytes(server.process.processIdentifier)) MB")

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
            ("kind complaint + priority urgent+important", list(Retain_V1_FeedbackFilter(kinds: [.complaint], priorities: [.urgentImportant]), .newest)),
            ("overdue only, by due time", list(Retain_V1_FeedbackFilter(overdueOnly: true), .due)),
            ("overdue + team logistics, by due time", list(Retain_V1_FeedbackFilter(teams: ["logistics"], overdueOnly: true), .due)),
            ("assignee agent7", list(Retain_V1_FeedbackFilter(assignee: "agent7"), .newest)),
            ("compensation OWED", list(Retain_V1_FeedbackFilter(compensationState: .owed), .oldest)),
            ("search 'charged me twice' in complaints", list(Retain_V1_FeedbackFilter(kinds: [.complaint], textContains: "charged me twice"), .newest)),
            ("search 'blank page', all items", list(Retain_V1_FeedbackFilter(textContains: "blank page"), .newest)),
        ]
        for (name, request) in cases {
            record(name, try await Self.measure(queries) { _ in
                try await client.unary(Retain_V1_Feedback.listFeedback, request).pageInfo?.total ?? 0
            })
        }
        record("user's items (random user)", try await Self.measure(queries) { round in
            try await client.unary(Retain_V1_Feedback.listFeedback, list(
                Retain_V1_FeedbackFilter(userId: "user\((round * 7919) % users)"), .newest)).pageInfo?.total ?? 0
        })
        let deep = try await Self.measure(max(queries / 10, 5)) { _ in
            var request = list(Retain_V1_FeedbackFilter(statuses: [.new]), .newest)
            var total: UInt64 = 0
            for _ in 0..<20 {
                let page = try await client.unary(Retain_V1_Feedback.listFeedback, request)
                total = page.pageInfo?.total ?? 0
                request.page?.pageToken = page.pageInfo?.nextPageToken ?? ""
            }
            return total
        }
        rows.append(["status NEW, 20 pages following tokens (per page)", ms(deep.p50 / 20), ms(deep.p99 / 20), String(deep.lastTotal)])
        record("ListOverdue, all teams", try await Self.measure(queries) { _ in
            try await client.unary(Retain_V1_Feedback.listOverdue, Retain_V1_ListOverdueRequest(page: .init(pageSize: 50))).pageInfo?.total ?? 0
        })
        record("ListOverdue, team support", try await Self.measure(queries) { _ in
            try await client.unary(Retain_V1_Feedback.listOverdue,
                                   Retain_V1_ListOverdueRequest(teams: ["support"], page: .init(pageSize: 50))).pageInfo?.total ?? 0
        })
        record("GetUserFeedbackHistory", try await Self.measure(queries) { round in
            try await client.unary(Retain_V1_Feedback.getUserFeedbackHistory,
                                   Retain_V1_GetUserFeedbackHistoryRequest(userId: "user\((round * 104_729) % users)")).totalItems
        })
        record("GetFaq (first page)", try await Self.measure(max(queries / 4, 5)) { _ in
            try await client.unary(Retain_V1_Feedback.getFaq, Retain_V1_GetFaqRequest()).pageInfo?.total ?? 0
        })
        record("GetFeedbackStats (30 days)", try await Self.measure(max(queries / 4, 5)) { _ in
            try await client.unary(Retain_V1_Feedback.getFeedbackStats, Retain_V1_GetFeedbackStatsRequest()).openTotal
        })
        Self.printTable(["query", "p50 ms", "p99 ms", "matches"], rows)

        // 4. Restart with everything.
        await client.close()
        print("")
        let stopped = ContinuousClock.now
        let status = server.stop()
        let stopSeconds = Self.seconds(ContinuousClock.now - stopped)
        let started = ContinuousClock.now
        server = try ServerProcess("retain-feedback", arguments: ["serve", "--data-dir", dataDirectory, "--log-level", "warning"],
                                   timeout: .seconds(600))
        let startSeconds = Self.seconds(ContinuousClock.now - started)
        client = RPCClient(host: "127.0.0.1", port: server.port, configuration: configuration)
        let after = try await client.unary(Retain_V1_Feedback.listFeedback, list(Retain_V1_FeedbackFilter(), .newest))
        print("restart: SIGTERM exit \(status) in \(String(format: "%.1f", stopSeconds)) s; recovered \(after.pageInfo?.total ?? 0) items "
            + "and listening again in \(String(format: "%.1f", startSeconds)) s; RSS \(Self.residentMegabytes(server.process.processIdentifier)) MB")
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

    /// `concurrency` tasks submitting new items back to back for `seconds`.
    /// Returns the latencies and the id of every item submitted, by item number.
    static func submitLoad(client: RPCClient, workload: BenchWorkload, next counter: Counter, limit: Int,
                           concurrency: Int, seconds: Double) async throws -> (Summary, [Int: String]) {
        let started = ContinuousClock.now
        let until = started + .milliseconds(Int(seconds * 1000))
        let (latencies, ids) = try await withThrowingTaskGroup(of: ([UInt64], [(Int, String)]).self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var local: [UInt64] = []
                    var ids: [(Int, String)] = []
                    while ContinuousClock.now < until {
                        let index = counter.take()
                        guard index < limit else { break }
                        let start = ContinuousClock.now
                        let answer = try await client.unary(Retain_V1_Feedback.submitFeedback, workload.submission(index))
                        local.append(nanoseconds(ContinuousClock.now - start))
                        ids.append((index, answer.item?.itemId ?? ""))
                    }
                    return (local, ids)
                }
            }
            var all: [UInt64] = []
            var ids: [Int: String] = [:]
            for try await (part, partIDs) in group {
                all += part
                for (index, id) in partIDs { ids[index] = id }
            }
            return (all, ids)
        }
        var summary = Summary(latencies)
        summary.seconds = Self.seconds(ContinuousClock.now - started)
        return (summary, ids)
    }

    /// Submits the remaining items and runs each item's workflow; returns the number of calls.
    /// Submits the remaining items and runs the workflow of every item (those of the throughput
    /// run first, whose ids are in `submitted`); returns the number of calls.
    static func fill(client: RPCClient, workload: BenchWorkload, next counter: Counter, limit: Int,
                     concurrency: Int, submitted: [Int: String]) async throws -> Int {
        let progress = Counter()
        let earlier = Counter()
        let first = min(counter.current, limit)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var calls = 0
                    while true {
                        let redo = earlier.take()
                        if redo < first {
                            calls += try await workflow(client: client, workload: workload, index: redo, id: submitted[redo])
                            continue
                        }
                        let index = counter.take()
                        guard index < limit else { break }
                        calls += try await workflow(client: client, workload: workload, index: index, id: nil)
                        let done = progress.take() + 1
                        if done % 200_000 == 0 { print("  ... \(first + done) items") }
                    }
                    return calls
                }
            }
            var total = 0
            for try await calls in group { total += calls }
            return total
        }
    }

    /// Item `index`'s submission (unless its `id` is known) and later changes; returns the
    /// calls made.
    static func workflow(client: RPCClient, workload: BenchWorkload, index: Int, id known: String?) async throws -> Int {
        let request = workload.submission(index)
        var calls = 0
        var id = known ?? ""
        if known == nil {
            id = try await client.unary(Retain_V1_Feedback.submitFeedback, request).item?.itemId ?? ""
            calls += 1
        }
        let fate = workload.fate(index)
        let agent = "agent\(index % 50)"
        switch fate {
        case 0..<60:
            _ = try await client.unary(Retain_V1_Feedback.resolveFeedback, workload.resolution(index, itemID: id, kind: request.kind))
            calls += 1
            if fate < 20 {
                _ = try await client.unary(Retain_V1_Feedback.closeFeedback, Retain_V1_CloseFeedbackRequest(
                    itemId: id, actor: agent, requestId: "close-\(index)"))
                calls += 1
            }
        case 60..<70:
            _ = try await client.unary(Retain_V1_Feedback.triageFeedback, Retain_V1_TriageFeedbackRequest(
                itemId: id, actor: agent, note: "checked", requestId: "triage-\(index)", urgent: index % 5 == 0, important: true))
            calls += 1
        case 70..<85:
            _ = try await client.unary(Retain_V1_Feedback.assignFeedback, Retain_V1_AssignFeedbackRequest(
                itemId: id, actor: "lead", requestId: "assign-\(index)", assignee: agent))
            calls += 1
            if fate >= 80 {
                _ = try await client.unary(Retain_V1_Feedback.startProgress, Retain_V1_StartProgressRequest(
                    itemId: id, actor: agent, requestId: "start-\(index)"))
                calls += 1
            }
        default:
            break
        }
        return calls
    }

    /// Runs `body` `count` times one after the other; `body` returns the match count.
    static func measure(_ count: Int, _ body: (Int) async throws -> UInt64) async throws -> Summary {
        var latencies: [UInt64] = []
        var total: UInt64 = 0
        for round in 0..<count {
            let start = ContinuousClock.now
            total = try await body(round)
            latencies.append(nanoseconds(ContinuousClock.now - start))
        }
        return Summary(latencies, lastTotal: total)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(duration.components.seconds) * 1_000_000_000 + UInt64(duration.components.attoseconds / 1_000_000_000)
    }

    static func seconds(_ duration: Duration) -> Double { Double(nanoseconds(duration)) / 1e9 }

    static func residentMegabytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }

    static func printTable(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
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

/// A shared counter handing out item numbers to the load tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next number.
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// How many were taken.
    var current: Int { value.load(ordering: .relaxed) }
}
