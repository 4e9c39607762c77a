import ArgumentParser
import RetainStorage

/// `always` or `interval:<milliseconds>` on the command line.
struct DurabilityArgument: ExpressibleByArgument, CustomStringConvertible {
    let durability: StorageConfiguration.Durability

    /// `always`.
    static let always = DurabilityArgument(durability: .always)

    private init(durability: StorageConfiguration.Durability) {
        self.durability = durability
    }

    init?(argument: String) {
        if argument == "always" {
            durability = .always
        } else if argument.hasPrefix("interval:"), let milliseconds = Int(argument.dropFirst("interval:".count)), milliseconds > 0 {
            durability = .interval(milliseconds: milliseconds)
        } else {
            return nil
        }
    }

    var description: String {
        switch durability {
        case .always: "always"
        case .interval(let milliseconds): "interval:\(milliseconds)"
        }
    }
}
