/// The sign-in page: one password field for the API key, posted (never a query parameter, so
/// the key stays out of URLs, history and access logs).
public enum SignInPage {
    /// The page; `failed` shows the refusal.
    public static func render(_ context: PageContext, failed: Bool) -> String {
        let text = context.text
        var body = "<section id=\"sign-in\"><p>\(HTML.escape(text[.signInHint]))</p>"
        if failed { body += "<p class=\"failed\" id=\"sign-in-failed\">\(HTML.escape(text[.signInFailed]))</p>" }
        body += """
            <form method="post" action="/signin"><label>\(HTML.escape(text[.apiKey])) \
            <input type="password" name="api_key" id="api-key" autocomplete="off" size="50" required></label> \
            <button type="submit" id="sign-in-button">\(HTML.escape(text[.signIn]))</button></form></section>
            """
        return Layout.page(context, title: text[.signIn], body: body)
    }
}
