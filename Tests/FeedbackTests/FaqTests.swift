import FeedbackCore
import RetainProto
import Testing

@Suite("FAQ grouping")
struct FaqTests {
    @Test("normalising lower-cases, drops punctuation and collapses white space")
    func normalise() {
        #expect(FaqText.normalise("  How do I   RESET my password?!  ") == "how do i reset my password")
        #expect(FaqText.normalise("Where's my refund...") == "where s my refund")
        #expect(FaqText.normalise("¿Dónde está mi pedido?") == "dónde está mi pedido")
        #expect(FaqText.normalise("?!") == "")
    }

    @Test("similarity is Jaccard over word sets, whatever the word order")
    func similarity() {
        func tokens(_ text: String) -> [String] { FaqText.tokens(ofNormalised: FaqText.normalise(text)) }
        #expect(FaqText.similarity(tokens("how do i reset my password"), tokens("Password: how do I reset my...")) == 1)
        #expect(FaqText.similarity(tokens("how can i reset my password"), tokens("how do i reset my password")) == 5.0 / 7.0)
        #expect(FaqText.similarity(tokens("refund"), tokens("delivery")) == 0)
        #expect(FaqText.similarity([], []) == 1)
    }

    /// Resolves a question with `answer`.
    static func ask(
        _ text: String, category: String = "account", answer: String = "Use the link", desk: inout FeedbackDesk,
        user: String = "u1"
    ) throws -> String {
        let id = try desk.submit(user: user, kind: .question, category: category, text: text).itemId
        desk.now += 1_000
        try desk.resolve(id, outcome: .answered, answer: answer)
        return id
    }

    @Test("near-identical resolved questions of a category share an entry; most asked first; the latest answer and wording shown")
    func grouping() throws {
        var desk = FeedbackDesk()
        let a = try Self.ask("How do I reset my password?", answer: "Old answer", desk: &desk)
        let b = try Self.ask("how do i reset my password", desk: &desk)
        let c = try Self.ask("How can I reset my password??", answer: "Newest answer", desk: &desk)
        let d = try Self.ask("How do I delete my account?", desk: &desk)
        let e = try Self.ask("How do I reset my password?", category: "login", desk: &desk)
        let faq = try desk.state.faqPage(.init())
        #expect(faq.entries.count == 3)
        #expect(faq.pageInfo?.total == 3)
        let top = try #require(faq.entries.first)
        #expect(top.askCount == 3)
        #expect(top.category == "account")
        #expect(Set(top.itemIds) == [a, b, c])
        #expect(top.itemIds.first == c, "latest first")
        #expect(top.question == "How can I reset my password??")
        #expect(top.answer == "Newest answer")
        #expect(top.groupId == FaqText.groupID(category: "account", normalised: "how do i reset my password"))
        let rest: [[String]] = faq.entries.dropFirst().map(\.itemIds)
        #expect(rest == [[e], [d]], "equal counts: the latest asked first")
        #expect(try desk.state.faqPage(.init(categories: ["login"])).entries.map(\.itemIds) == [[e]])
        #expect(try desk.state.faqPage(.init(minAsks: 2)).entries.count == 1)
    }

    @Test("unresolved questions, other kinds and reopened questions are not counted")
    func onlyResolvedQuestions() throws {
        var desk = FeedbackDesk()
        let a = try Self.ask("Can I pay with a gift card?", desk: &desk)
        _ = try Self.ask("can i pay with a gift card", desk: &desk)
        try desk.submit(kind: .question, category: "account", text: "Can I pay with a gift card?")
        let complaint = try desk.submit(kind: .complaint, category: "account", text: "Can I pay with a gift card?").itemId
        try desk.resolve(complaint)
        #expect(try desk.state.faqPage(.init()).entries.first?.askCount == 2)
        try desk.reopen(a)
        #expect(try desk.state.faqPage(.init()).entries.first?.askCount == 1)
        desk.now += 1_000
        try desk.resolve(a, outcome: .answered, answer: "Yes")
        let entry = try #require(try desk.state.faqPage(.init()).entries.first)
        #expect(entry.askCount == 2)
        #expect(entry.answer == "Yes")
    }

    @Test("grouping is deterministic: the same resolutions give the same groups, in one state or replayed")
    func deterministic() throws {
        func build() throws -> [Retain_V1_FaqEntry] {
            var desk = FeedbackDesk()
            for (index, text) in [
                "Where is my order?", "where is my order", "Where is my refund?", "Where's my order??",
                "Is there a dark mode?", "is there dark mode",
            ].enumerated() {
                _ = try Self.ask(text, answer: "answer \(index)", desk: &desk, user: "u\(index)")
            }
            return try desk.state.faqPage(.init()).entries
        }
        let first = try build()
        let second = try build()
        #expect(first == second)
        #expect(
            first.map(\.askCount) == [2, 2, 1, 1], "'is there dark mode' shares 4 of 5 words (0.8); 'where s my order' only 3 of 5 (0.6)")
    }

    @Test("Chinese questions with the same request in other words share an entry; other requests do not")
    func chineseQuestions() throws {
        var desk = FeedbackDesk()
        let a = try Self.ask("怎么修改收货地址？", desk: &desk, user: "u1")
        let b = try Self.ask("如何修改我的收货地址", desk: &desk, user: "u2")
        let c = try Self.ask("收货地址怎么修改", desk: &desk, user: "u3")
        let refund = try Self.ask("怎么申请退款？", desk: &desk, user: "u4")
        let password = try Self.ask("如何修改登录密码", desk: &desk, user: "u5")
        let entries = try desk.state.faqPage(.init()).entries
        #expect(entries.map { Set($0.itemIds) } == [[a, b, c], [password], [refund]])
        #expect(entries.first?.question == "收货地址怎么修改", "the latest wording")
    }

    @Test("mixed Chinese and Latin text compares Latin words and Chinese character pairs")
    func mixedText() throws {
        func tokens(_ text: String) -> [String] { FaqText.tokens(ofNormalised: FaqText.normalise(text)) }
        #expect(Set(tokens("iPhone怎么绑定微信?")) == ["iphone", "绑定", "定微", "微信"])
        #expect(FaqText.similarity(tokens("iPhone怎么绑定微信?"), tokens("如何在 iPhone 绑定微信")) >= 0.7)
        #expect(FaqText.similarity(tokens("iPhone怎么绑定微信"), tokens("iPhone怎么绑定支付宝")) < 0.5)
        #expect(Set(tokens("退款")) == ["退款"])

        var desk = FeedbackDesk()
        let a = try Self.ask("iPhone怎么绑定微信?", desk: &desk, user: "u1")
        let b = try Self.ask("如何在 iPhone 绑定微信", desk: &desk, user: "u2")
        let android = try Self.ask("Android怎么绑定微信", desk: &desk, user: "u3")
        let entries = try desk.state.faqPage(.init()).entries
        #expect(entries.map { Set($0.itemIds) } == [[a, b], [android]])
    }

    @Test("pages follow each other without gaps or repeats")
    func paging() throws {
        var desk = FeedbackDesk()
        for index in 0..<25 {
            for repeatIndex in 0..<(index % 4 + 1) {
                _ = try Self.ask("question number \(index) about topic t\(index)", desk: &desk, user: "u\(repeatIndex)")
            }
        }
        let all = try desk.state.faqPage(.init(page: .init(pageSize: 1000))).entries
        #expect(all.count == 25)
        var paged: [Retain_V1_FaqEntry] = []
        var request = Retain_V1_GetFaqRequest(page: .init(pageSize: 4))
        while true {
            let page = try desk.state.faqPage(request)
            paged += page.entries
            guard let token = page.pageInfo?.nextPageToken, !token.isEmpty else { break }
            request.page?.pageToken = token
        }
        #expect(paged == all)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.askCount >= $1.askCount })
    }
}
