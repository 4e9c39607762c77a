import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization

/// Starts the real `retain-growth` on loopback with client times allowed and fast heartbeats.
func startGrowth(_ directory: URL, _ extra: [String] = []) throws -> ServerProcess {
    try ServerProcess(
        "retain-growth",
        arguments: [
            "serve", "--data-dir", directory.path, "--log-level", "warning",
            "--allow-client-times", "--heartbeat-ms", "300",
        ] + extra)
}

/// The status code a call failed with, or nil when it succeeded.
func statusOf(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// Collects the messages of a WatchLevelChanges stream in the background.
final class LevelStream: Sendable {
    private struct State {
        var messages: [Retain_V1_WatchLevelChangesResponse] = []
        var ended: RPCError?
        var endedCleanly = false
    }

    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ client: RPCClient, _ request: Retain_V1_WatchLevelChangesRequest) {
        let stream = client.serverStreaming(Retain_V1_Growth.watchLevelChanges, request)
        let started = Task {
            do {
                for try await message in stream { self.state.withLock { $0.messages.append(message) } }
                self.state.withLock { $0.endedCleanly = true }
            } catch let error as RPCError {
                self.state.withLock { $0.ended = error }
            } catch {
                self.state.withLock { $0.ended = RPCError(.unknown, "\(error)") }
            }
        }
        task.withLock { $0 = started }
    }

    /// Every message so far.
    var messages: [Retain_V1_WatchLevelChangesResponse] { state.withLock { $0.messages } }
    /// The events received so far (heartbeats left out).
    var events: [Retain_V1_LevelChangeEvent] { messages.compactMap(\.event) }
    /// The status the stream ended with, if it ended with an error.
    var error: RPCError? { state.withLock { $0.ended } }

    /// Waits until `count` events arrived.
    func waitForEvents(_ count: Int) async -> Bool {
        await eventually { self.events.count >= count }
    }

    func cancel() {
        task.withLock { $0?.cancel() }
    }
}
