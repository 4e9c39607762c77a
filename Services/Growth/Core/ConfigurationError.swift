/// Why a growth configuration was refused: the entry at fault and what is wrong with it.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// Path of the bad entry, e.g. `tiers[2].min_growth`; empty for the whole file.
    public var path: String
    /// What is wrong.
    public var problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}
