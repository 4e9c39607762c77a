/// What every page needs besides its data: the language, who is signed in and what they may
/// do, the form token, and a message left by the last action.
public struct PageContext: Sendable {
    /// The interface text.
    public var text: Localizer
    /// The signed-in session; nil on the sign-in page.
    public var session: ConsoleSession?
    /// The path of the page (marks the current tab, and the language switch returns to it).
    public var path: String
    /// A message to show on top (an action's result), and whether it reports a failure.
    public var notice: (message: String, failed: Bool)?

    public init(language: Language, session: ConsoleSession?, path: String, notice: (String, Bool)? = nil) {
        self.text = Localizer(language)
        self.session = session
        self.path = path
        self.notice = notice.map { (message: $0.0, failed: $0.1) }
    }

    /// The hidden field every form carries (see ``ConsoleSession/formToken``).
    public var formTokenField: String {
        "<input type=\"hidden\" name=\"form_token\" value=\"\(HTML.escape(session?.formToken ?? ""))\">"
    }
}
