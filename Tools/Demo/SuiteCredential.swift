public import Foundation
public import RetainRPC

/// The credential the demo and the suite's integration tests send with every call, taken from
/// one place: the `--authorization` option when given, else the `RETAIN_AUTHORIZATION`
/// environment variable, else none (the services' insecure development mode).
public enum SuiteCredential {
    /// The environment variable that holds the credential.
    public static let environmentVariable = "RETAIN_AUTHORIZATION"

    /// The credential to send: `option`, else `$RETAIN_AUTHORIZATION`, else "".
    public static func resolve(
        _ option: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let option { return option }
        return environment[environmentVariable] ?? ""
    }

    /// Call options carrying the credential (see ``resolve(_:environment:)``) and `timeout`.
    public static func callOptions(_ option: String? = nil, timeout: Duration? = .seconds(30)) -> CallOptions {
        CallOptions(timeout: timeout, authorization: resolve(option))
    }
}
