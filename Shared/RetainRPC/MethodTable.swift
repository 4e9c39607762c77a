#if canImport(Glibc)
import Glibc
#endif

/// Finds a method by the raw UTF-8 bytes of its path, without building a String per call.
///
/// Open addressing over FNV-1a hashes; built once when a server starts.
struct MethodTable: Sendable {
    private struct Slot: Sendable {
        let hash: UInt64
        let path: [UInt8]
        let method: ServerMethod
    }

    private var slots: [Slot?]
    private let mask: Int

    init(_ methods: [String: ServerMethod]) {
        var capacity = 16
        while capacity < methods.count * 4 { capacity *= 2 }
        slots = Array(repeating: nil, count: capacity)
        mask = capacity - 1
        for (path, method) in methods {
            let bytes = Array(path.utf8)
            let hash = bytes.withUnsafeBytes { Self.hash($0) }
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index] != nil { index = (index + 1) & mask }
            slots[index] = Slot(hash: hash, path: bytes, method: method)
        }
    }

    /// The method whose path is exactly `bytes`.
    func lookup(_ bytes: UnsafeRawBufferPointer) -> ServerMethod? {
        let hash = Self.hash(bytes)
        var index = Int(truncatingIfNeeded: hash) & mask
        while let slot = slots[index] {
            if slot.hash == hash, slot.path.count == bytes.count,
                bytes.isEmpty || slot.path.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
            {
                return slot.method
            }
            index = (index + 1) & mask
        }
        return nil
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}
