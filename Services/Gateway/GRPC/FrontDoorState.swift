import Synchronization

/// Whether the front door is draining (its gRPC server began a graceful shutdown), shared by
/// the server and its calls.
final class FrontDoorState: Sendable {
    private let draining = Atomic<Bool>(false)
    private let listening = Atomic<Bool>(false)

    /// True once the gRPC server listens.
    var isListening: Bool { listening.load(ordering: .acquiring) }

    /// Marks the server as listening.
    func markListening() { listening.store(true, ordering: .releasing) }

    /// True once a graceful shutdown began.
    var isDraining: Bool { draining.load(ordering: .acquiring) }

    /// Marks the start of the graceful shutdown.
    func beginDraining() { draining.store(true, ordering: .releasing) }
}
