import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// Ready-made `CreateTransfers` REQUEST frames for the load generator: one frame encoded once by
/// libprotobuf-c, then patched in place for every call, so that the client spends its CPU on
/// the wire and not on building messages.
///
/// Every number that changes from call to call has a fixed width in the template: the request
/// id (frame header bytes 8-11), and in each transfer the id's counter and the digits of the
/// debit and credit user numbers (account ids `user:u<digits>:points`, zero-padded, see
/// ``LedgerLoad/account(_:)``):
///
/// ```
/// | 12-byte header (request id) | u32 | CallHeader | CreateTransfersRequest
///                                                    transfer 0: id "<tag>-<connection>-<counter>"
///                                                                debit user:u<from>, credit user:u<to>
///                                                    transfer 1: ...
/// ```
struct TransferFrames: Sendable {
    /// Digits of the counter in each transfer id.
    static let counterWidth = 12

    private var template: [UInt8]
    private var counterOffsets: [Int] = []
    private var debitOffsets: [Int] = []
    private var creditOffsets: [Int] = []
    private let userWidth: Int
    private let users: Int
    private var counter: UInt64 = 0
    private var random: SplitMix

    /// Frames of `batch` transfers of 1 point between random distinct users below `users`, ids
    /// prefixed `<tag>-<connection>-`; `omitApplied` asks for the compact answer.
    init(tag: String, connection: Int, batch: Int, users: Int, omitApplied: Bool) {
        precondition(users >= 2 && batch >= 1)
        self.users = users
        userWidth = LedgerLoad.userWidth(users)
        random = SplitMix(seed: UInt64(connection) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: tag.utf8.count &* 131))
        // Placeholders, each a byte no other part of the message contains, replaced by digits.
        let counter = String(repeating: "#", count: Self.counterWidth)
        let debit = "user:u" + String(repeating: "!", count: userWidth) + ":points"
        let credit = "user:u" + String(repeating: "~", count: userWidth) + ":points"
        let transfers = (0..<batch).map { _ in
            Retain_V1_Transfer(
                transferId: "\(tag)-\(connection)-\(counter)", debitAccountId: debit, creditAccountId: credit,
                amount: 1, asset: "points", kind: .adjustment)
        }
        let request = Retain_V1_CreateTransfersRequest(transfers: transfers, omitApplied: omitApplied)
        let header = ProtoCodec.encode(Retain_V1_CallHeader(method: Retain_V1_Ledger.createTransfers.path))
        let body = ProtoCodec.encode(request)
        var frame = ByteBuffer()
        frame.writeFrameHeader(type: .request, flags: [], requestID: 0, payloadLength: 4 + header.count + body.count)
        frame.writeInteger(UInt32(header.count))
        frame.writeBytes(header)
        frame.writeBytes(body)
        template = Array(frame.readableBytesView)
        // Whole strings are matched (a length byte may equal a placeholder byte), in order.
        let patterns: [(bytes: [UInt8], skip: Int, kind: Int)] = [
            (Array("-\(counter)".utf8), 1, 0), (Array(debit.utf8), 6, 1), (Array(credit.utf8), 6, 2),
        ]
        var index = Frame.headerSize
        scan: while index < template.count {
            for pattern in patterns where template[index...].starts(with: pattern.bytes) {
                switch pattern.kind {
                case 0: counterOffsets.append(index + pattern.skip)
                case 1: debitOffsets.append(index + pattern.skip)
                default: creditOffsets.append(index + pattern.skip)
                }
                index += pattern.bytes.count
                continue scan
            }
            index += 1
        }
        precondition(
            counterOffsets.count == batch && debitOffsets.count == batch && creditOffsets.count == batch,
            "placeholders of the transfer frame template not found once per transfer")
    }

    /// Bytes of one frame.
    var size: Int { template.count }

    /// Writes the next frame, with fresh transfer ids and random accounts, as call `requestID`.
    mutating func write(requestID: UInt32, into buffer: inout ByteBuffer) {
        template.withUnsafeMutableBufferPointer { bytes in
            bytes[8] = UInt8(truncatingIfNeeded: requestID >> 24)
            bytes[9] = UInt8(truncatingIfNeeded: requestID >> 16)
            bytes[10] = UInt8(truncatingIfNeeded: requestID >> 8)
            bytes[11] = UInt8(truncatingIfNeeded: requestID)
            for item in counterOffsets.indices {
                let from = Int(random.next() % UInt64(users))
                var to = Int(random.next() % UInt64(users))
                if to == from { to = (to + 1) % users }
                Self.digits(counter, width: Self.counterWidth, at: counterOffsets[item], in: bytes)
                Self.digits(UInt64(from), width: userWidth, at: debitOffsets[item], in: bytes)
                Self.digits(UInt64(to), width: userWidth, at: creditOffsets[item], in: bytes)
                counter += 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(bytes))
        }
    }

    /// Writes `value` as `width` zero-padded decimal digits at `offset`.
    @inline(__always)
    private static func digits(_ value: UInt64, width: Int, at offset: Int, in bytes: UnsafeMutableBufferPointer<UInt8>) {
        var value = value
        var position = offset + width - 1
        while position >= offset {
            bytes[position] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
            position -= 1
        }
    }
}
