package import CProtobufC

/// Conversions from protobuf-c's C representations to Swift values, used by generated code.
package enum ProtoC {
    /// A Swift string from a NUL-terminated C string (nil reads as empty).
    package static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    /// Bytes from protobuf-c binary data.
    package static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: base, count: data.len))
    }

    /// A Swift array converted element by element from a C array of `count` elements.
    package static func array<C, S>(_ pointer: UnsafeMutablePointer<C>?, count: Int, _ convert: (C) -> S) -> [S] {
        guard let pointer, count > 0 else { return [] }
        var result: [S] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            result.append(convert(pointer[index]))
        }
        return result
    }

    /// A Swift dictionary from the entries of a protobuf-c map field.
    package static func dictionary<E, K: Hashable, V>(
        _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<E>?>?, count: Int,
        _ convert: (UnsafeMutablePointer<E>) -> (K, V)
    ) -> [K: V] {
        guard let pointer, count > 0 else { return [:] }
        var result: [K: V] = Dictionary(minimumCapacity: count)
        for index in 0..<count {
            guard let entry = pointer[index] else { continue }
            let (key, value) = convert(entry)
            result[key] = value
        }
        return result
    }
}
