public import ArgumentParser
import Foundation
public import RetainRPC

/// The credential the operator's commands send: `--authorization`, else `RETAIN_AUTHORIZATION`.
/// `ApiKey <key>` for the gateway, `Bearer <token>` (`retain-gateway mint-token`) for a service.
public struct AuthorizationOption: ParsableArguments, Sendable {
    /// The flag's value; never printed.
    @Option(
        help: "Credential sent as authorization: 'ApiKey <key>' (gateway) or 'Bearer <token>' (service); default $RETAIN_AUTHORIZATION.")
    public var authorization: String?

    public init() {}

    /// The environment variable read when the flag is absent.
    public static let environmentVariable = "RETAIN_AUTHORIZATION"

    /// The credential to send, "" for none.
    public var value: String {
        authorization ?? ProcessInfo.processInfo.environment[Self.environmentVariable] ?? ""
    }

    /// A client configuration that sends the credential with every call.
    public var clientConfiguration: RPCClient.Configuration {
        var configuration = RPCClient.Configuration()
        let value = value
        if !value.isEmpty { configuration.credentials = StaticCredentials(value) }
        return configuration
    }
}
