import NIOCore

/// The connections of a client's open watches, so `shutdown()` can end them.
struct EtcdWatchRegistry {
    private var channels: [Int: any Channel] = [:]
    private var nextID = 0
    private var closed = false

    /// Remembers `channel`; returns its id, or nil when the client is shut down.
    mutating func add(_ channel: any Channel) -> Int? {
        guard !closed else { return nil }
        nextID += 1
        channels[nextID] = channel
        return nextID
    }

    /// Forgets the watch `id`.
    mutating func remove(_ id: Int) {
        channels[id] = nil
    }

    /// Forgets every watch and refuses new ones; returns their channels to close.
    mutating func closeAll() -> [any Channel] {
        closed = true
        defer { channels = [:] }
        return Array(channels.values)
    }
}
