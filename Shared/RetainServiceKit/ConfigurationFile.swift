public import ArgumentParser

/// How every service reads its `--config` file, so that they all behave alike: no file means
/// the built-in rules; a file that does not load or validate refuses the start with
/// `--config PATH: <the problem, naming the field>` and the usage exit code (64).
public enum ConfigurationFile {
    /// The configuration in `path` read by `parse`, or `defaults` when there is no path.
    public static func load<Configuration>(
        _ path: String?, defaults: () throws -> Configuration, parse: (String) throws -> Configuration
    ) throws -> Configuration {
        guard let path else { return try defaults() }
        do {
            return try parse(path)
        } catch {
            throw ValidationError("--config \(path): \(error)")
        }
    }
}
