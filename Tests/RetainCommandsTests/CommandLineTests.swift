import Foundation
import RetainProcess
import RetainTestSupport
import Testing

/// Runs the built `retain` command against a live `retain-echo`.
@Suite("retain command line against a live server", .serialized)
struct CommandLineTests {
    /// What a run printed and how it ended.
    typealias Output = CommandRun

    /// Runs the built `executable` (`retain` by default) with `arguments` (``CommandRun``).
    func retain(
        _ arguments: [String], input: String? = nil, executable: String = "retain",
        environment: [String: String] = [:]
    ) throws -> Output {
        try CommandRun(executable, arguments, input: input, environment: environment)
    }

    @Test("against a server that checks tokens: refused without one (exit 16), served with a minted one by flag or environment")
    func authorization() throws {
        let secret = String(repeating: "cli-secret-", count: 4)
        let server = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"], serviceSecret: secret)
        defer { server.stop() }
        let address = "127.0.0.1:\(server.port)"
        let refused = try retain(["call", address, "retain.v1.Echo/Echo", #"{"text": "hi"}"#])
        #expect(refused.status == 16, "\(refused)")
        let minted = try retain(
            ["mint-token", "--scopes", "echo:read", "--ttl-seconds", "60"], executable: "retain-gateway",
            environment: ["RETAIN_SERVICE_SECRET": secret])
        let token = minted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(minted.status == 0 && token.hasPrefix("Bearer v1.operator.operator.echo:read."), "\(minted)")
        let served = try retain(["call", address, "retain.v1.Echo/Echo", #"{"text": "hi"}"#, "--authorization", token])
        #expect(served.status == 0 && served.stdout.contains("hi"), "\(served)")
        let listed = try retain(["list", address], environment: ["RETAIN_AUTHORIZATION": token])
        #expect(listed.status == 0 && listed.stdout.contains("Echo(retain.v1.EchoRequest)"), "\(listed)")
        #expect(try retain(["list", address]).status != 0)
    }

    @Test("list names every service and method with its types")
    func list() throws {
        let server = try ServerProcess("retain-echo")
        let output = try retain(["list", "127.0.0.1:\(server.port)"])
        #expect(output.status == 0)
        #expect(output.stdout.contains("retain.v1.Echo"))
        #expect(output.stdout.contains("Expand(retain.v1.ExpandRequest) returns (stream retain.v1.EchoResponse)"))
        #expect(output.stdout.contains("retain.v1.Health"))
        server.stop()
    }

    @Test("describe shows a message's fields and a method's types")
    func describe() throws {
        let message = try retain(["describe", "retain.v1.EchoRequest"])
        #expect(message.status == 0)
        #expect(message.stdout.contains("string text = 1;"))
        #expect(message.stdout.contains("bytes payload = 2;"))
        let server = try ServerProcess("retain-echo")
        let method = try retain(["describe", "retain.v1.Echo/Sleep", "--server", "127.0.0.1:\(server.port)"])
        #expect(method.status == 0)
        #expect(method.stdout.contains("uint32 duration_ms = 1;"))
        server.stop()
    }

    @Test("call sends JSON and prints the JSON answer; streaming prints each answer")
    func call() throws {
        let server = try ServerProcess("retain-echo")
        let address = "127.0.0.1:\(server.port)"
        let unary = try retain(["call", address, "retain.v1.Echo/Echo", #"{"text": "hi", "payload": "AQI="}"#, "--compact"])
        #expect(unary.status == 0)
        #expect(unary.stdout.contains(#""text":"hi""#))
        #expect(unary.stdout.contains(#""payload":"AQI=""#))
        let stdin = try retain(["call", address, "retain.v1.Echo/Echo", "-", "--compact"], input: #"{"text":"from stdin"}"#)
        #expect(stdin.stdout.contains("from stdin"))
        let stream = try retain(["call", address, "retain.v1.Echo/Expand", #"{"text": "x", "count": 3}"#, "--compact"])
        #expect(stream.status == 0)
        #expect(stream.stdout.split(separator: "\n").count == 3)
        server.stop()
    }

    @Test("errors end with the status code as exit code and a message on stderr")
    func errors() throws {
        let server = try ServerProcess("retain-echo")
        let address = "127.0.0.1:\(server.port)"
        let failed = try retain(["call", address, "retain.v1.Echo/Fail", #"{"code": 9, "message": "nope"}"#])
        #expect(failed.status == 9)
        #expect(failed.stderr.contains("FAILED_PRECONDITION: nope"))
        let unknown = try retain(["call", address, "retain.v1.Echo/Nope", "{}"])
        #expect(unknown.status == 12)
        let badJSON = try retain(["call", address, "retain.v1.Echo/Echo", #"{"txt": 1}"#])
        #expect(badJSON.status == 3)
        #expect(badJSON.stderr.contains("txt"))
        let deadline = try retain(["call", address, "retain.v1.Echo/Sleep", #"{"durationMs": 2000}"#, "--timeout", "0.1"])
        #expect(deadline.status == 4)
        server.stop()
        let down = try retain(["call", address, "retain.v1.Echo/Echo", "{}"])
        #expect(down.status == 14)
    }

    @Test("health reports SERVING and exits 0; a dead server makes it exit 14")
    func health() throws {
        let server = try ServerProcess("retain-echo")
        let address = "127.0.0.1:\(server.port)"
        let ok = try retain(["health", address])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("SERVING"))
        server.stop()
        #expect(try retain(["health", address]).status == 14)
    }

    @Test("a short load run makes exactly the calls asked for and reports them")
    func load() throws {
        let server = try ServerProcess("retain-echo")
        let output = try retain([
            "load", "127.0.0.1:\(server.port)", "retain.v1.Echo/Echo", "--data", #"{"text": "n{{seq}} r{{rand:1:9}}"}"#,
            "--total", "500", "--concurrency", "8", "--warmup", "0", "--json",
        ])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        #expect(report?["calls"] as? Int == 500)
        #expect((report?["statuses"] as? [String: Int])?["OK"] == 500)
        let failing = try retain([
            "load", "127.0.0.1:\(server.port)", "retain.v1.Echo/Fail", "--data", #"{"code": 5}"#,
            "--total", "50", "--warmup", "0", "--json",
        ])
        let failures = try JSONSerialization.jsonObject(with: Data(failing.stdout.utf8)) as? [String: Any]
        #expect((failures?["statuses"] as? [String: Int])?["NOT_FOUND"] == 50)
        let paced = try retain([
            "load", "127.0.0.1:\(server.port)", "retain.v1.Echo/Echo", "--rate", "200", "--duration", "1",
            "--warmup", "0", "--json",
        ])
        let pacedReport = try JSONSerialization.jsonObject(with: Data(paced.stdout.utf8)) as? [String: Any]
        let calls = pacedReport?["calls"] as? Int ?? 0
        #expect((180...220).contains(calls), "an open-model run at 200/s for 1 s made \(calls) calls")
        server.stop()
    }
}
