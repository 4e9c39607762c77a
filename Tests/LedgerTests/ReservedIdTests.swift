import LedgerCore
import Testing

/// `LedgerNames.isReserved` compares only the prefix the first byte can start: every reserved
/// prefix must still be found, and near misses must not be.
@Suite("reserved transfer ids")
struct ReservedIdTests {
    @Test("each reserved prefix is the ledger's own, near misses and other ids are not")
    func prefixes() {
        for prefix in LedgerNames.reservedPrefixes {
            #expect(LedgerNames.isReserved(prefix))
            #expect(LedgerNames.isReserved(prefix + "lot-7"))
            #expect(!LedgerNames.isReserved(String(prefix.dropLast())))
            #expect(!LedgerNames.isReserved(String(prefix.dropLast()) + "-x"))
            #expect(!LedgerNames.isReserved("x" + prefix))
        }
        for id in ["", "e", "t", "r", "c", "transfer-1", "expiry", "timeouts:1", "coupons:1", "referral", "Expiry:1"] {
            #expect(!LedgerNames.isReserved(id), "\(id)")
        }
    }
}
