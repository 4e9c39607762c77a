/// How a method answers: once, or with a stream of messages.
public enum RPCMethodKind: Sendable, Hashable {
    /// One request, one answer.
    case unary
    /// One request, any number of answers, then a status.
    case serverStreaming
}

/// A method of a Retain service with its request and answer types, generated from a `.proto`.
public struct RPCMethod<Input: ProtoMessage, Output: ProtoMessage>: Sendable, Hashable {
    /// The method's wire name, `retain.v1.<Service>/<Method>`.
    public let path: String
    /// Unary or server streaming.
    public let kind: RPCMethodKind

    /// The packed `CallHeader` naming this method, computed once: a call with default options
    /// sends it as is, and other options are appended (protobuf merges concatenated messages).
    public let headerBytes: [UInt8]
    /// ``headerBytes`` plus `accept_compression = true`.
    public let headerBytesAcceptingCompression: [UInt8]

    public init(path: String, kind: RPCMethodKind) {
        self.path = path
        self.kind = kind
        self.headerBytes = Retain_V1_CallHeader(method: path).serializedBytes()
        self.headerBytesAcceptingCompression = Retain_V1_CallHeader(method: path, acceptCompression: true).serializedBytes()
    }

    /// The service part of the path, for example `retain.v1.Profile`.
    public var serviceName: Substring { path[..<(path.firstIndex(of: "/") ?? path.endIndex)] }
}

/// A method with its types erased, for registries and reflection.
public struct AnyRPCMethod: Sendable, Hashable {
    /// The method's wire name.
    public let path: String
    /// Unary or server streaming.
    public let kind: RPCMethodKind
    /// Full protobuf name of the request type.
    public let inputName: String
    /// Full protobuf name of the answer type.
    public let outputName: String

    public init<I, O>(_ method: RPCMethod<I, O>) {
        self.path = method.path
        self.kind = method.kind
        self.inputName = I.protoName
        self.outputName = O.protoName
    }

    /// The method a contract schema describes (a method a proxy forwards without its types).
    public init(_ schema: MethodSchema) {
        self.path = schema.path
        self.kind = schema.serverStreaming ? .serverStreaming : .unary
        self.inputName = schema.inputType
        self.outputName = schema.outputType
    }
}
