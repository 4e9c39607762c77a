import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// The calls of one connection of `retain-bench ledger`: CreateTransfers REQUEST frames patched
/// from ``TransferFrames``, and a count of the transfers the answers report applied.
struct TransferCalls: PipelinedCalls {
    private var frames: TransferFrames
    private let compact: Bool
    private var remaining: Int?
    /// Transfers the answers report applied (OK, including replays).
    private(set) var applied = 0

    /// Calls sending `frames`, `calls` of them or, when nil, until the run's deadline;
    /// `compact`: the frames ask for the compact answer (`omit_applied`).
    init(frames: TransferFrames, compact: Bool, calls: Int?) {
        self.frames = frames
        self.compact = compact
        remaining = calls
    }

    mutating func nextRequest(requestID: UInt32, allocator: ByteBufferAllocator) -> ByteBuffer? {
        if let left = remaining {
            guard left > 0 else { return nil }
            remaining = left - 1
        }
        var buffer = allocator.buffer(capacity: frames.size)
        frames.write(requestID: requestID, into: &buffer)
        return buffer
    }

    mutating func ended(_ frame: Frame) throws {
        guard frame.type == .message, !frame.flags.contains(.compressed) else {
            let status = frame.type == .status ? (try? frame.payload.decodeProtoMessage(Retain_V1_CallStatus.self)) : nil
            throw LoadError("CreateTransfers answered \(frame.type) \(status.map { "\($0.code) \($0.message)" } ?? "")")
        }
        guard let count = TransferAnswer.applied(in: frame.payload, compact: compact) else {
            throw LoadError("CreateTransfers answer does not decode")
        }
        applied += count
    }
}

/// Reads what a `CreateTransfersResponse` reports without building the message: a scan of the
/// protobuf wire format for the fields that count.
enum TransferAnswer {
    /// Transfers applied (OK, including replays) per the answer, or nil when it is malformed.
    /// `compact`: the answer to a request with `omit_applied` (newly applied ones counted in
    /// `applied`, field 2); otherwise one result per transfer.
    static func applied(in payload: ByteBuffer, compact: Bool) -> Int? {
        payload.withUnsafeReadableBytes { bytes -> Int? in
            var reader = WireCursor(bytes)
            var count = 0
            while !reader.atEnd {
                guard let (field, wire) = reader.tag() else { return nil }
                switch (field, wire) {
                case (1, 2):
                    guard let result = reader.lengthDelimited(), let code = resultCode(result) else { return nil }
                    if code == 1 { count += 1 }
                case (2, 0):
                    guard let applied = reader.varint() else { return nil }
                    if compact { count += Int(applied) }
                default:
                    guard reader.skip(wireType: wire) else { return nil }
                }
            }
            return count
        }
    }

    /// The `code` (field 3) of an encoded `TransferResult`.
    private static func resultCode(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        var reader = WireCursor(bytes)
        var code: UInt64 = 0
        while !reader.atEnd {
            guard let (field, wire) = reader.tag() else { return nil }
            if field == 3, wire == 0 {
                guard let value = reader.varint() else { return nil }
                code = value
            } else if !reader.skip(wireType: wire) {
                return nil
            }
        }
        return code
    }
}
