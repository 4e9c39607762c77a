/// The activity kinds Profile counts one by one; every other kind is counted as "other".
package enum ActivityKind {
    /// Kind names by counter index; the last is "other".
    package static let names = ["login", "visit", "purchase", "share", "post", "check_in", "invite", "other"]
    /// The counter index of "login".
    package static let login = 0
    /// The counter index of "purchase".
    package static let purchase = 2
    /// The counter index of "other".
    package static let other = 7

    /// The counter index of `kind`.
    package static func index(of kind: String) -> Int {
        switch kind {
        case "login": 0
        case "visit": 1
        case "purchase": 2
        case "share": 3
        case "post": 4
        case "check_in": 5
        case "invite": 6
        default: 7
        }
    }
}
