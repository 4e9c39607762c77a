package import ArgumentParser
import Foundation
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC

/// `retain-bench ledger`: durable transfers per second over the wire with 1, 16 and 64
/// concurrent clients and in batches, beside PostgreSQL 15 doing the same double-entry transfer
/// (one transaction per transfer with a balance check), on this machine in the same run. It
/// starts the `retain-ledger` built beside it.
package struct LedgerBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Durable transfers/s over the wire, beside PostgreSQL on loopback.")

    package init() {}

    @Option(help: "Seconds per measurement.") var duration: Int = 10
    @Option(help: "Concurrent clients for single-transfer calls, comma separated.") var concurrency: String = "1,16,64"
    @Option(help: "Transfers per CreateTransfers call in the batch runs.") var batchSize: Int = 1000
    @Option(help: "Batch calls in flight, comma separated.") var batchConcurrency: String = "1,4"
    @Option(help: "User accounts the transfers move between.") var users: Int = 10_000
    @Flag(help: "Skip the PostgreSQL side.") var skipPostgres = false
    @Flag(help: "Only measure the domain applying batches in memory.") var coreOnly = false
    @Option(help: "Measure a ledger already listening on this loopback port instead of starting one.")
    var port: Int?
    @Option(help: "The ledger's --durability (always is the figure that counts).") var durability: String = "always"
    @Option(help: "Connections the calls in flight are spread over.") var connections: Int = 1
    @Flag(help: "Drive the load with one task per client through RPCClient instead of the pipelined client.")
    var asyncClients = false
    @Flag(help: "Ask for one result per transfer instead of the compact answer (omit_applied).") var fullAnswers = false
    @Option(
        help:
            "Send this many transfers per run instead of running for --duration, and skip the read baseline and the audit (for CPU time or instruction counts per transfer)."
    )
    var transfers: Int?

    package func run() async throws {
        if coreOnly {
            let rate = try CoreBenchmark.run(users: users, batch: batchSize, calls: max(1, 300_000 / max(1, batchSize)))
            print(
                "core alone, in memory, \(batchSize) per entry: \(format(rate.wall)) transfers/s wall clock, "
                    + "\(format(rate.cpu)) per CPU-second")
            return
        }
        let levels = concurrency.split(separator: ",").compactMap { Int($0) }
        let batchLevels = batchConcurrency.split(separator: ",").compactMap { Int($0) }
        let directory = try makeTemporaryDirectory("ledger-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server =
            try port == nil
            ? ServerProcess(
                "retain-ledger",
                arguments: [
                    "serve", "--data-dir", directory.appendingPathComponent("ledger").path, "--log-level", "warning",
                    "--durability", durability,
                ]) : nil
        defer { server?.stop() }
        var configuration = RPCClient.Configuration()
        configuration.compressionThreshold = nil
        configuration.maximumPayloadSize = 16 << 20
        let client = RPCClient(host: "127.0.0.1", port: port ?? server!.port, configuration: configuration)
        let load = LedgerLoad(client: client, users: users)
        try await load.fund()
        print("retain-bench ledger: \(users) funded user accounts, \(duration) s per run, durability \(durability)")

        let port = self.port ?? server!.port
        if transfers == nil {
            for level in [1, 64] {
                let rate = try await load.reads(port: port, concurrency: level, seconds: min(3, duration))
                print("  baseline: GetAccount (a read, nothing logged), \(level) concurrent clients: \(format(rate)) calls/s")
            }
        }
        var ours: [(String, Int, Double)] = []
        func measure(inFlight: Int, batch: Int, tag: String) async throws -> Double {
            if asyncClients {
                return try await load.runAsync(
                    concurrency: inFlight, batch: batch, seconds: duration,
                    callsPerWorker: transfers.map { max(1, $0 / (batch * inFlight)) }, tag: tag)
            }
            let spread = max(1, min(connections, inFlight))
            let deadline = transfers == nil ? NIODeadline.now() + TimeAmount.seconds(Int64(duration)) : nil
            let callsPerConnection = transfers.map { max(1, $0 / (batch * spread)) }
            let (count, seconds) = try await load.run(
                port: port, connections: spread, inFlight: max(1, inFlight / spread),
                batch: batch, deadline: deadline, callsPerConnection: callsPerConnection,
                compact: !fullAnswers, tag: tag)
            return Double(count) / seconds
        }
        for level in levels {
            let rate = try await measure(inFlight: level, batch: 1, tag: "s\(level)")
            ours.append(("1 transfer per call", level, rate))
            print("  ledger, \(level) concurrent clients, 1 transfer per call: \(format(rate)) transfers/s")
        }
        for level in batchLevels {
            let rate = try await measure(inFlight: level, batch: batchSize, tag: "b\(level)")
            ours.append(("\(batchSize) transfers per call", level, rate))
            print("  ledger, \(level) batch calls in flight, \(batchSize) per call: \(format(rate)) transfers/s")
        }
        if transfers == nil {
            let audit = try await client.unary(Retain_V1_Ledger.audit, Retain_V1_AuditRequest(verifyChain: true))
            print(
                "  audit after the runs: balanced \(audit.balanced), journal length \(audit.journalLength), "
                    + "chain verified \(audit.chainVerified)")
        }
        await client.close()

        var postgres: [Int: Double] = [:]
        if !skipPostgres {
            let anchor = try PostgresAnchor.start(in: directory.appendingPathComponent("pg"), accounts: users)
            defer { anchor.stop() }
            for level in Set(levels).sorted() {
                postgres[level] = try anchor.pgbench(clients: level, seconds: duration)
                print("  postgres, \(level) clients, one transaction per transfer: \(format(postgres[level]!)) transfers/s")
            }
        }

        print("")
        print(
            "durable double-entry transfers per second, client and server on this machine (\(ProcessInfo.processInfo.activeProcessorCount) cores)"
        )
        var rows: [[String]] = []
        let bestPostgres = postgres.values.max()
        for (mode, level, rate) in ours {
            let single = mode.hasPrefix("1 transfer")
            let anchor = single ? postgres[level] : bestPostgres
            let anchorLabel = single ? "\(level) clients" : "best of the above"
            rows.append([
                mode, single ? "\(level) clients" : "\(level) calls in flight", format(rate),
                anchor.map { "\(format($0)) (\(anchorLabel))" } ?? "-",
                anchor.map { String(format: "%.1fx", rate / $0) } ?? "-",
            ])
        }
        printTable(["retain-ledger", "concurrency", "ledger transfers/s", "PostgreSQL 15 transfers/s", "ratio"], rows)
    }

    private func format(_ value: Double) -> String {
        let whole = Int(value.rounded())
        var text = String(whole)
        var index = text.count - 3
        while index > 0 {
            text.insert(",", at: text.index(text.startIndex, offsetBy: index))
            index -= 3
        }
        return text
    }

    private func printTable(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: " | ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-"))
        for row in rows { print(line(row)) }
    }
}
