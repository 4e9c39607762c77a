import Logging
import ServiceLifecycle

/// Repeats the insecure-mode warning every minute while an executable serves without checking
/// credentials, so that it cannot scroll out of sight.
struct InsecureModeWarning: Service {
    let name: String
    let logger: Logger
    /// Between two warnings. Default 60 s.
    var interval: Duration = .seconds(60)

    func run() async throws {
        let (name, logger, interval) = (name, logger, interval)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                ServerOptions.warnInsecure(logger, name: name)
            }
        }
    }
}
