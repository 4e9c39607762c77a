/// Per-frame flags.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The message part of the payload is one zstd frame.
    public static let compressed = Self(rawValue: 0x01)
    /// On MESSAGE: the last answer of the call, which ended with OK.
    public static let end = Self(rawValue: 0x02)
    /// On MESSAGE: the call's answers are flow-controlled (the caller asked for a window in its
    /// `CallHeader.window_bytes`); the caller grants more with WINDOW_UPDATE frames.
    public static let flowControlled = Self(rawValue: 0x04)

    /// Flags this build understands; others are a protocol error.
    public static let known: Self = [.compressed, .end, .flowControlled]
}
