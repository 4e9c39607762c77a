import Foundation
import RetainProcess
import RetainWebhooks

/// A local HTTP endpoint for the webhook tests: a small Python `http.server` in a subprocess
/// that logs every request it gets (one JSON line: headers, body, what it answered) and answers
/// as its mode file says, so a test injects failures and switches them while services run:
///
/// - `ok`: 200 at once.
/// - `down`: 503 always.
/// - `reject`: 400 always.
/// - `gone`: 410 always.
/// - `flaky`: by the delivery id's hash and the attempt the receiver counts: 503, an answer
///   after 1.5 s (past the sender's timeout: the sender retries though the receiver took it),
///   the connection closed with no answer, 429, or 200; from the third request of an id on, 200.
final class WebhookReceiver: @unchecked Sendable {
    let directory: URL
    let port: Int
    private var process: Process

    /// One request the receiver got.
    struct Request: Decodable {
        let deliveryID: String
        let eventType: String
        let signature: String
        let attempt: String
        let body: String
        /// What it answered: a status, or "slow" (200 after the sender gave up), "drop" (no answer).
        let answered: String
        let path: String

        enum CodingKeys: String, CodingKey {
            case deliveryID = "delivery_id", eventType = "event_type", signature, attempt, body, answered, path
        }

        /// The body's JSON.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        /// Whether the sender saw a 2xx.
        var acknowledged: Bool { answered.hasPrefix("2") }
    }

    static let script = #"""
        import http.server, json, sys, time, hashlib, threading, os
        directory, port = sys.argv[1], int(sys.argv[2])
        lock = threading.Lock()
        counts = {}
        def mode():
            try:
                with open(os.path.join(directory, "mode")) as f: return f.read().strip()
            except OSError: return "ok"
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                did = self.headers.get("Retain-Delivery-Id", "")
                with lock:
                    counts[did] = counts.get(did, 0) + 1
                    k = counts[did]
                m = mode()
                answer = "200"
                if m == "down": answer = "503"
                elif m == "reject": answer = "400"
                elif m == "gone": answer = "410"
                elif m == "flaky" and k < 3:
                    h = int(hashlib.sha256(did.encode()).hexdigest(), 16) % 5
                    answer = ["503", "slow", "drop", "429", "200"][h] if k == 1 else ["500", "200", "200", "200", "200"][h]
                record = {"delivery_id": did, "event_type": self.headers.get("Retain-Event-Type", ""),
                          "signature": self.headers.get("Retain-Signature", ""), "attempt": self.headers.get("Retain-Attempt", ""),
                          "body": body.decode(), "answered": answer, "path": self.path}
                with lock:
                    with open(os.path.join(directory, "requests.jsonl"), "a") as f:
                        f.write(json.dumps(record) + "\n")
                if answer == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if answer == "slow":
                    time.sleep(1.5)
                    answer = "200"
                self.send_response(int(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *args): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        with open(os.path.join(directory, "port.tmp"), "w") as f: f.write(str(server.server_address[1]))
        os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
        server.serve_forever()
        """#

    /// Starts a receiver in `mode` on `port` (0: any).
    init(mode: String, port: Int = 0) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-receiver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.script.write(to: directory.appendingPathComponent("receiver.py"), atomically: true, encoding: .utf8)
        try mode.write(to: directory.appendingPathComponent("mode"), atomically: true, encoding: .utf8)
        (process, self.port) = try Self.launch(directory, port: port)
    }

    private static func launch(_ directory: URL, port: Int) throws -> (Process, Int) {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("port"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", directory.appendingPathComponent("receiver.py").path, directory.path, String(port)]
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? String(contentsOf: directory.appendingPathComponent("port"), encoding: .utf8), let bound = Int(text) {
                return (process, bound)
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.terminate()
        throw CocoaError(.fileReadNoSuchFile)
    }

    /// The URL deliveries go to.
    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// Switches how it answers from the next request on.
    func set(mode: String) throws {
        try mode.write(to: directory.appendingPathComponent("mode"), atomically: true, encoding: .utf8)
    }

    /// Stops it (connections are refused until ``restart()``).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    /// Starts it again on the same port.
    func restart() throws {
        stop()
        (process, _) = try Self.launch(directory, port: port)
    }

    /// Every request so far, in arrival order.
    var requests: [Request] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("requests.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
