import ArgumentParser

/// How every service reads its configuration files (`--config`, the gateway's `--topology`), so
/// that they all behave alike: no file means the built-in rules; a file that does not load or
/// validate refuses the start with `--config PATH: <the problem, naming the field>` and the usage
/// exit code (64).
public enum ConfigurationFile {
    /// The configuration in `path` read by `parse`, or `defaults` when there is no path.
    /// - Parameter option: the command-line option that named the file, quoted in the error.
    public static func load<Configuration>(
        _ path: String?, option: String = "--config", defaults: () throws -> Configuration,
        parse: (String) throws -> Configuration
    ) throws -> Configuration {
        guard let path else { return try defaults() }
        do {
            return try parse(path)
        } catch {
            throw ValidationError("\(option) \(path): \(error)")
        }
    }
}
