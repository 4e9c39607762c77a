import NIOCore

/// A complete HTTP answer from the gateway.
struct EtcdHTTPResponse: Sendable {
    /// The status code (the gateway maps gRPC errors to 4xx and 5xx, with a JSON body).
    var status: Int
    /// The body, de-chunked.
    var body: ByteBuffer
    /// False when the server said it will close the connection.
    var keepAlive: Bool
}

/// Why an exchange with one endpoint failed below the level of etcd's answers: what decides
/// whether the call may be tried on the next endpoint.
enum EtcdTransportFailure: Error, Sendable {
    /// No connection could be opened: the request never left, trying elsewhere is always safe.
    case connect(String)
    /// No complete answer within the timeout: the request may or may not have been applied.
    case timedOut
    /// The connection closed before the answer ended: the request may or may not have been applied.
    case closed
    /// The answer broke HTTP or a size limit.
    case malformed(String)
}
