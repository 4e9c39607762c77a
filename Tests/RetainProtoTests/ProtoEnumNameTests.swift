import RetainProto
import Testing

@Suite("enum value names without their prefix")
struct ProtoEnumNameTests {
    @Test("the enum's name in upper snake case is dropped; an unknown number has none")
    func unprefixed() {
        #expect(Retain_V1_ContactChannel.inApp.unprefixedName == "IN_APP")
        #expect(Retain_V1_TransferKind.welcomeBonus.unprefixedName == "WELCOME_BONUS")
        #expect(Retain_V1_LifecycleStage.churnRisk.unprefixedName == "CHURN_RISK")
        #expect(Retain_V1_FeedbackStatus.inProgress.unprefixedName == "IN_PROGRESS")
        #expect(Retain_V1_ChurnReason.unspecified.unprefixedName == "UNSPECIFIED")
        #expect(Retain_V1_ContactChannel(rawValue: 999).unprefixedName == nil)
    }
}
