import NIOCore
import RetainWire

/// The send window of one flow-controlled call (PROTOCOL.md §15, "Per-stream flow control").
///
/// The caller announces a window in its call header (`window_bytes`) and grants more with
/// WINDOW_UPDATE frames as its application consumes answers. A MESSAGE goes out while the window
/// is positive and nothing is held; its payload then comes off the window, which may go negative
/// by less than one message (messages are never split). Frames that may not go yet are held in
/// order; a STATUS costs nothing but waits behind the MESSAGEs it ends.
///
/// So at most `window` plus one message of the call's answers are in flight to a caller that
/// stopped consuming; a producer that awaits ``isOpen`` holds at most one more.
struct StreamWindow {
    /// The largest window: grants beyond it are capped.
    static let largest = Int(Int32.max)

    /// Payload bytes the caller will still take.
    private(set) var available: Int
    /// Frames waiting for credit, oldest first.
    private var held = CircularBuffer<ByteBuffer>()
    /// Bytes of the held frames.
    private(set) var heldBytes = 0
    /// Whether the call's final frame has been offered.
    private(set) var ended = false

    init(bytes: Int) {
        available = min(bytes, Self.largest)
    }

    /// Whether another answer would go out at once.
    var isOpen: Bool { held.isEmpty && available > 0 }

    /// Whether the final frame has gone out.
    var isFinished: Bool { ended && held.isEmpty }

    /// Offers the call's next frame (`ends`: its final one); returns it when it may go now,
    /// nil when it is held until credit arrives.
    mutating func offer(_ frame: ByteBuffer, ends: Bool) -> ByteBuffer? {
        if ends { ended = true }
        let cost = Self.cost(of: frame)
        guard held.isEmpty, cost == 0 || available > 0 else {
            held.append(frame)
            heldBytes += frame.readableBytes
            return nil
        }
        available -= cost
        return frame
    }

    /// Adds `increment` bytes of credit; returns the held frames that may go now, in order.
    mutating func grant(_ increment: UInt32) -> [ByteBuffer] {
        available = min(available + Int(increment), Self.largest)
        var ready: [ByteBuffer] = []
        while let next = held.first {
            let cost = Self.cost(of: next)
            guard cost == 0 || available > 0 else { break }
            available -= cost
            heldBytes -= next.readableBytes
            ready.append(held.removeFirst())
        }
        return ready
    }

    /// What a frame takes off the window: a MESSAGE's payload, nothing for any other frame.
    static func cost(of frame: ByteBuffer) -> Int {
        guard frame.getInteger(at: frame.readerIndex + 5, as: UInt8.self) == FrameType.message.rawValue else { return 0 }
        return frame.readableBytes - Frame.headerSize
    }
}
