public import ArgumentParser
import Foundation
import Histogram
import NIOCore
import RetainProto
import RetainRPC
import RetainWire
import Synchronization

/// `retain load`: a load tester for any method of any single service (like ghz).
///
/// Closed model by default: `--concurrency` callers call back to back. With `--rate`, an open
/// model: call i is due at start + i/rate whatever happened before, and its latency is measured
/// from when it was due, so a server that falls behind shows it (no coordinated omission).
public struct LoadCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Load-test one method of one server and report rate, latency and statuses.")

    @Argument(help: "The server, host:port.") var server: ServerAddress
    @Argument(help: "The method, retain.v1.<Service>/<Method> (unary).") var method: String
    @Option(name: .shortAndLong, help: "Request JSON template: {{seq}}, {{rand:LOW:HIGH}}, {{uuid}}.") var data: String = "{}"
    @Option(name: .shortAndLong, help: "Concurrent calls.") var concurrency: Int = 16
    @Option(help: "Connections to open.") var connections: Int = 1
    @Option(name: .shortAndLong, help: "Total calls (default: run for --duration).") var total: Int?
    @Option(help: "Seconds to run when --total is not given.") var duration: Double = 10
    @Option(name: .shortAndLong, help: "Target calls per second (open model); omit for closed.") var rate: Double?
    @Option(help: "Seconds of warm-up, not measured.") var warmup: Double = 1
    @Option(help: "Deadline per call in seconds.") var timeout: Double?
    @OptionGroup var credential: AuthorizationOption
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup(title: "TLS") var connection: ConnectionOptions
    @Flag(inversion: .prefixedNo, help: "Show a progress line (default: when standard error is a terminal).")
    var progress: Bool?

    public init() {}

    public func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        guard connections > 0 else { throw ValidationError("--connections must be at least 1") }
        if let total, total <= 0 { throw ValidationError("--total must be positive") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
    }

    public func run() async throws {
        var configuration = credential.clientConfiguration
        configuration.connectionsPerAddress = connections
        configuration = try connection.clientConfiguration(configuration)
        let client = RPCClient(targets: [(server.host, server.port)], configuration: configuration)
        defer { Task { await client.close() } }
        let report = try await ExitStatusReport.run {
            let info = try await MethodResolver(client: client).method(method)
            guard !info.serverStreaming else { throw ValidationError("load tests unary methods; \(method) streams") }
            let template = try RequestTemplate(data, descriptor: try MethodResolver.descriptor(info.inputType))
            let options = CallOptions(timeout: timeout.map { .milliseconds(Int64($0 * 1000)) }, authorization: credential.value)
            if warmup > 0 {
                _ = await LoadRun(
                    client: client, method: method, template: template, options: options,
                    concurrency: concurrency, total: nil, duration: warmup, rate: nil, progress: false
                ).execute()
            }
            let run = LoadRun(
                client: client, method: method, template: template, options: options, concurrency: concurrency,
                total: total, duration: duration, rate: rate,
                progress: progress ?? (isatty(STDERR_FILENO) != 0))
            let result = await run.execute()
            return LoadReport(
                method: method, histogram: result.histogram, statuses: result.statuses,
                seconds: result.seconds, targetRate: rate, concurrency: concurrency, connections: connections)
        }
        print(json ? report.json : report.text)
    }
}

/// One measured phase of a load test.
struct LoadRun: Sendable {
    let client: RPCClient
    let method: String
    let template: RequestTemplate
    let options: CallOptions
    let concurrency: Int
    let total: Int?
    let duration: Double
    let rate: Double?
    let progress: Bool

    struct Result {
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var statuses: [UInt32: UInt64] = [:]
        var seconds: Double = 0
    }

    func execute() async -> Result {
        let counters = LoadCounters()
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int64(duration * 1000))
        let reporter = progress ? Task { await showProgress(counters, start: start) } : nil
        var result = await withTaskGroup(of: Result.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var local = Result()
                    while true {
                        let ticket = counters.tickets.wrappingAdd(1, ordering: .relaxed).oldValue
                        if let total, ticket >= total { break }
                        var due = ContinuousClock.now
                        if let rate {
                            due = start + .nanoseconds(Int64(Double(ticket) / rate * 1e9))
                            if total == nil, due >= end { break }
                            if due > ContinuousClock.now { try? await Task.sleep(until: due) }
                        } else if total == nil, due >= end {
                            break
                        }
                        let code: UInt32
                        do {
                            _ = try await client.unaryRaw(path: method, request: try template.request(ticket), options: options)
                            code = 0
                        } catch let error as RPCError {
                            code = error.code.rawValue
                        } catch {
                            code = RPCStatusCode.unknown.rawValue
                        }
                        let micros = UInt64(max(0, (ContinuousClock.now - due) / .microseconds(1)))
                        _ = local.histogram.record(max(1, micros))
                        local.statuses[code, default: 0] += 1
                        counters.completed.wrappingAdd(1, ordering: .relaxed)
                    }
                    return local
                }
            }
            var merged = Result()
            for await part in group {
                merged.histogram.add(part.histogram)
                merged.statuses.merge(part.statuses, uniquingKeysWith: +)
            }
            return merged
        }
        reporter?.cancel()
        if progress { FileHandle.standardError.write(Data("\n".utf8)) }
        result.seconds = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
        return result
    }

    private func showProgress(_ counters: LoadCounters, start: ContinuousClock.Instant) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let done = counters.completed.load(ordering: .relaxed)
            let elapsed = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
            let fraction: Double = if let total { Double(done) / Double(total) } else { min(1, elapsed / duration) }
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            let line = String(format: "\r[%@] %3.0f%%  %d calls  %.0f/s", bar, fraction * 100, done, Double(done) / max(elapsed, 0.001))
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

/// Calls handed out and calls finished, shared by a run's callers.
final class LoadCounters: Sendable {
    let tickets = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
}

/// Runs a command body, mapping failures to exit codes like ``ExitStatus``.
enum ExitStatusReport {
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        var value: T?
        try await ExitStatus.reporting { value = try await body() }
        return value!
    }
}
