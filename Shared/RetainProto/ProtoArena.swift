package import CProtobufC

/// A bump allocator for the C side of one encode or decode.
///
/// Building a protobuf-c message for packing, and unpacking one, allocates many small pieces
/// (strings, arrays, sub-messages). The arena hands them out from a few large blocks and frees
/// everything at once in `deinit`, so no per-field `free` is ever left to a caller.
public final class ProtoArena {
    // The arena is used from one thread at a time and never re-entered, so the runtime's
    // exclusivity checks on its fields (a few hundred instructions per call served) buy nothing.
    /// The block kept across `reset()`, once one was needed.
    @exclusivity(unchecked) private var first: UnsafeMutableRawPointer?
    /// Blocks taken after the first; freed by `reset()`.
    @exclusivity(unchecked) private var extra: [UnsafeMutableRawPointer] = []
    @exclusivity(unchecked) private var cursor: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var remaining = 0
    private let blockSize: Int

    /// Creates an arena whose blocks are `blockSize` bytes (larger requests get their own block).
    /// No memory is taken until the first allocation.
    public init(blockSize: Int = 1024) {
        self.blockSize = blockSize
    }

    deinit {
        first?.deallocate()
        for block in extra { block.deallocate() }
    }

    /// Frees everything allocated so far but keeps the first block for reuse, so an arena
    /// owned by a connection serves call after call without touching malloc.
    public func reset() {
        guard let first else { return }
        if !extra.isEmpty {
            for block in extra { block.deallocate() }
            extra.removeAll()
        }
        cursor = first
        remaining = blockSize
    }

    /// Allocates `size` bytes aligned to 16, uninitialised.
    package func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let rounded = (max(size, 1) + 15) & ~15
        if rounded > remaining {
            if rounded > blockSize / 4, first != nil {
                let block = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: 16)
                extra.append(block)
                return block
            }
            let size = max(blockSize, rounded)
            let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
            if first == nil { first = block } else { extra.append(block) }
            cursor = block
            remaining = size
        }
        let result = cursor!
        cursor = result + rounded
        remaining -= rounded
        return result
    }

    /// Allocates and initialises (with the descriptor's `message_init`) an empty C message.
    package func newMessage(_ descriptor: MessageDescriptor) -> UnsafeMutableRawPointer {
        let pointer = allocate(descriptor.raw.pointee.sizeof_message)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: descriptor.raw.pointee.sizeof_message)
        descriptor.raw.pointee.message_init(pointer.assumingMemoryBound(to: ProtobufCMessage.self))
        return pointer
    }

    /// Builds the C form of `message` in the arena.
    package func message<M: ProtoMessage>(_ message: M) -> UnsafeMutableRawPointer {
        let pointer = newMessage(M.messageDescriptor)
        message.writeProtobufC(into: pointer, arena: self)
        return pointer
    }

    /// A NUL-terminated copy of `string`.
    package func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let pointer = allocate(utf8.count + 1)
            if let base = utf8.baseAddress { pointer.copyMemory(from: base, byteCount: utf8.count) }
            pointer.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return pointer.assumingMemoryBound(to: CChar.self)
        }
    }

    /// A copy of `bytes` as protobuf-c binary data.
    package func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let pointer = allocate(bytes.count)
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return ProtobufCBinaryData(len: bytes.count, data: pointer.assumingMemoryBound(to: UInt8.self))
    }

    /// A copy of a repeated scalar field whose Swift and C layouts agree.
    package func copy<T: BitwiseCopyable>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = allocate(MemoryLayout<T>.stride * values.count).bindMemory(to: T.self, capacity: values.count)
        _ = UnsafeMutableBufferPointer(start: pointer, count: values.count).initialize(from: values)
        return pointer
    }

    /// A C array made by converting each element of `values`.
    package func array<S, C>(_ values: [S], as: C.Type, _ convert: (S) -> C) -> UnsafeMutablePointer<C> {
        let pointer = allocate(MemoryLayout<C>.stride * values.count).bindMemory(to: C.self, capacity: values.count)
        for (index, value) in values.enumerated() {
            (pointer + index).initialize(to: convert(value))
        }
        return pointer
    }

    /// The entries of a map field: an array of pointers to initialised entry messages.
    package func mapEntries<K, V, E>(
        _ map: [K: V], entry: MessageDescriptor, as: E.Type,
        _ fill: (UnsafeMutablePointer<E>, K, V) -> Void
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<E>?> {
        let pointers = allocate(MemoryLayout<UnsafeMutablePointer<E>?>.stride * map.count)
            .bindMemory(to: UnsafeMutablePointer<E>?.self, capacity: map.count)
        var index = 0
        for (key, value) in map {
            let item = newMessage(entry).assumingMemoryBound(to: E.self)
            fill(item, key, value)
            (pointers + index).initialize(to: item)
            index += 1
        }
        return pointers
    }

    /// A protobuf-c allocator that allocates from this arena and never frees individually.
    /// Valid while the arena lives.
    package var allocator: ProtobufCAllocator {
        ProtobufCAllocator(
            alloc: { data, size in
                Unmanaged<ProtoArena>.fromOpaque(data!).takeUnretainedValue().allocate(size)
            },
            free: { _, _ in },
            allocator_data: Unmanaged.passUnretained(self).toOpaque()
        )
    }
}
