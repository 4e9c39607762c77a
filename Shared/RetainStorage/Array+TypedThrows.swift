/// `withUnsafeBytes` variants that keep a typed error (the standard ones are `rethrows`, which
/// widens a typed error to `any Error`).
extension Array where Element == UInt8 {
    /// Calls `body` with the array's bytes, keeping `body`'s error type.
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result = withUnsafeBytes { bytes in Result { () throws(E) -> R in try body(bytes) } }
        return try result.get()
    }

    /// Calls `body` with the array's mutable bytes, keeping `body`'s error type.
    mutating func withMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result = withUnsafeMutableBytes { bytes in Result { () throws(E) -> R in try body(bytes) } }
        return try result.get()
    }
}
