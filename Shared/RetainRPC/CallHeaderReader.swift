import CRetainProto
import NIOCore
import RetainProto
#if canImport(Glibc)
import Glibc
import RetainWire
#endif

/// Splits a REQUEST payload into its call header and request message, and reads the header
/// fields the server needs on every call (method, deadline, credential, compression) without
/// decoding the rest.
///
/// ```
/// +-----------------------------+---------------------------+--------------------------+
/// | header length (uint32, BE)  | CallHeader                | request message          |
/// +-----------------------------+---------------------------+--------------------------+
/// ```
///
/// The header a client sends is scanned straight from the wire (``CallHeaderScan``); any other
/// is unpacked with libprotobuf-c, so both read every header alike.
struct CallHeaderReader {
    /// What the server reads from a call header.
    struct Header {
        /// The registered method it names, or nil.
        let method: ServerMethod?
        /// `timeout_us`, 0 for none.
        let timeout: UInt64
        /// The method's name when no registered method matches (for the fallback or the error).
        let name: String?
        let acceptsCompression: Bool
        /// The call's credential when the server checks credentials and it differs from the one
        /// last verified on the connection; nil otherwise.
        let credential: String?
        /// `window_bytes`: the caller's window for flow-controlled answers, 0 for none.
        let windowBytes: UInt32
    }

    /// One REQUEST payload, split.
    struct Call {
        let header: Header
        /// The encoded header, kept for handlers that read more of it.
        let headerBytes: ByteBuffer
        /// The request message (still compressed when the frame says so).
        var message: ByteBuffer
    }

    let methods: MethodTable
    /// Unpacks headers of an unusual shape; reset before each use.
    let arena: ProtoArena
    /// Whether the server checks credentials (else the credential is not read).
    let authenticating: Bool

    /// Splits `payload` and reads its header; `verifiedCredential` is the credential last
    /// verified on the connection, which the header need not repeat.
    func read(_ payload: ByteBuffer, verifiedCredential: [UInt8]) throws(RPCError) -> Call {
        guard let headerLength = payload.getInteger(at: payload.readerIndex, as: UInt32.self),
            payload.readableBytes >= 4 + Int(headerLength)
        else {
            throw RPCError(.invalidArgument, "REQUEST payload shorter than its declared call header")
        }
        let headerBytes = payload.getSlice(at: payload.readerIndex + 4, length: Int(headerLength))!
        let message = payload.getSlice(
            at: payload.readerIndex + 4 + Int(headerLength),
            length: payload.readableBytes - 4 - Int(headerLength))!
        let header = headerBytes.withUnsafeReadableBytes { raw in
            self.header(raw, verifiedCredential: verifiedCredential)
        }
        guard let header else { throw RPCError(.invalidArgument, "malformed call header") }
        return Call(header: header, headerBytes: headerBytes, message: message)
    }

    /// The header in `raw`, or nil when it is malformed.
    private func header(_ raw: UnsafeRawBufferPointer, verifiedCredential: [UInt8]) -> Header? {
        // The header a client sends, read without libprotobuf-c; any other goes below.
        if let scan = CallHeaderScan(raw) {
            let method = methods.lookup(scan.method)
            var credential: String?
            if authenticating, !scan.authorization.elementsEqual(verifiedCredential) {
                credential = String(decoding: scan.authorization, as: UTF8.self)
            }
            return Header(
                method: method, timeout: scan.timeoutMicroseconds,
                name: method == nil ? String(decoding: scan.method, as: UTF8.self) : nil,
                acceptsCompression: scan.acceptsCompression, credential: credential,
                windowBytes: scan.windowBytes)
        }
        arena.reset()
        guard let unpacked = ProtoCodec.unpack(Retain_V1_CallHeader.messageDescriptor, from: raw, arena: arena) else {
            return nil
        }
        let header = unpacked.assumingMemoryBound(to: Retain__V1__CallHeader.self)
        guard let name = header.pointee.method else {
            return Header(method: nil, timeout: 0, name: "", acceptsCompression: false, credential: nil, windowBytes: 0)
        }
        let nameBytes = UnsafeRawBufferPointer(start: name, count: strlen(name))
        // A name with a NUL inside reads shorter in C than it is on the wire; such a header is
        // malformed, not a call of the shorter name.
        guard nameBytes.isEmpty || Self.header(raw, holdsMethodField: nameBytes) else { return nil }
        let method = methods.lookup(nameBytes)
        var credential: String?
        if authenticating, let authorization = header.pointee.authorization {
            // The same credential as the last call's needs no second look.
            let bytes = UnsafeRawBufferPointer(start: authorization, count: strlen(authorization))
            credential = bytes.elementsEqual(verifiedCredential) ? nil : String(cString: authorization)
        } else if authenticating {
            credential = verifiedCredential.isEmpty ? nil : ""
        }
        return Header(
            method: method, timeout: header.pointee.timeout_us,
            name: method == nil ? String(cString: name) : nil,
            acceptsCompression: header.pointee.accept_compression != 0, credential: credential,
            windowBytes: header.pointee.window_bytes)
    }

    /// Whether the packed call header holds field 1 (method) with exactly `name` as its value.
    static func header(_ raw: UnsafeRawBufferPointer, holdsMethodField name: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < raw.count {
            defer { index += 1 }
            guard raw[index] == 0x0A else { continue }
            // Read the varint length after the tag and compare it and the bytes that follow.
            var cursor = index + 1
            var length = 0
            var shift = 0
            while cursor < raw.count, shift < 35 {
                let byte = raw[cursor]
                length |= Int(byte & 0x7F) << shift
                cursor += 1
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            if length == name.count, cursor + length <= raw.count,
                UnsafeRawBufferPointer(rebasing: raw[cursor..<(cursor + length)]).elementsEqual(name)
            {
                return true
            }
        }
        return false
    }
}
