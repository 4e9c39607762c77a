import NIOCore

/// Cuts a streamed answer into its newline-terminated JSON objects.
///
/// The gateway streams a watch as one JSON object per line:
///
/// ```
/// {"result":{"header":{...},"created":true}}\n
/// {"result":{"header":{...},"events":[{"kv":{...}}]}}\n
/// ```
///
/// Chunk boundaries fall anywhere, so a line may arrive in pieces; a line longer than
/// `maximumLineLength` is refused before it is buffered further.
struct EtcdLineSplitter {
    let maximumLineLength: Int
    private var partial: [UInt8] = []

    init(maximumLineLength: Int) {
        self.maximumLineLength = maximumLineLength
    }

    /// Adds `chunk`; returns the lines it completed, without their newlines, empty lines left out.
    mutating func append(_ chunk: ByteBuffer) throws(EtcdError) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in chunk.readableBytesView {
            if byte == UInt8(ascii: "\n") {
                if !partial.isEmpty { lines.append(partial) }
                partial.removeAll(keepingCapacity: true)
            } else {
                guard partial.count < maximumLineLength else {
                    throw EtcdError(.protocolError, "streamed line longer than \(maximumLineLength) bytes")
                }
                partial.append(byte)
            }
        }
        return lines
    }

    /// What is left after the stream ended: a last line without a newline, if any.
    mutating func finish() -> [UInt8]? {
        defer { partial = [] }
        return partial.isEmpty ? nil : partial
    }
}
