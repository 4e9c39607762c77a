import RetainProto

/// One movement on a user account, for statements: which record, and the balance after it.
struct PostingRef: Sendable {
    /// The journal record (its index; the sequence is index + 1).
    var record: Int32
    /// Posted balance after the movement.
    var balanceAfter: Int64
}

/// What never changes about an account, shared by reference so that moving an account's
/// totals around never copies its strings.
final class AccountInfo: Sendable {
    let id: String
    let address: AccountAddress
    let createdAt: Int64
    let metadata: [String: String]

    init(id: String, address: AccountAddress, createdAt: Int64, metadata: [String: String]) {
        self.id = id
        self.address = address
        self.createdAt = createdAt
        self.metadata = metadata
    }
}

/// An account as the ledger keeps it: totals, lots (user accounts) and postings (user accounts).
struct LedgerAccount: Sendable {
    let info: AccountInfo
    /// The account id, kept here as well as in `info`: every transfer confirms its id lookups
    /// against it, and reading it through `info` costs one more cache miss per account.
    let id: String
    /// Index of the asset in the ledger's asset table.
    let asset: Int32
    /// A user account (has lots and postings).
    let isUser: Bool
    /// May never go below zero (user, redemption, expiry, penalty).
    let neverNegative: Bool
    var capped: Bool
    var cap: Int64
    var debitsPosted: Int64 = 0
    var creditsPosted: Int64 = 0
    var debitsPending: Int64 = 0
    var creditsPending: Int64 = 0
    /// Lot numbers credited to the account in spending order from `lotHead` on: soonest-expiring
    /// first, never-expiring last, equal expiries oldest first (user accounts only).
    var lots: [Int32] = []
    /// Lots before this position are used up.
    var lotHead = 0
    /// Movements, oldest first (user accounts only).
    var postings: [PostingRef] = []

    init(
        id: String, address: AccountAddress, asset: Int32, capped: Bool, cap: Int64, createdAt: Int64,
        metadata: [String: String]
    ) {
        self.info = AccountInfo(id: id, address: address, createdAt: createdAt, metadata: metadata)
        self.id = id
        self.asset = asset
        self.isUser = address.kind == .user
        self.neverNegative = address.neverNegative
        self.capped = capped
        self.cap = cap
    }

    var address: AccountAddress { info.address }
    var createdAt: Int64 { info.createdAt }
    var metadata: [String: String] { info.metadata }

    /// credits_posted - debits_posted.
    var balance: Int64 { creditsPosted - debitsPosted }
    /// What may still be debited before a cap's allowance: balance - debits_pending.
    var available: Int64 { balance - debitsPending }

    /// The account as the wire shows it.
    var proto: Retain_V1_Account {
        Retain_V1_Account(
            accountId: id, kind: address.kind, asset: address.asset,
            userId: address.kind == .user ? address.owner : "",
            campaignId: address.kind == .budget ? address.owner : "",
            name: address.kind == .system ? address.owner : "",
            capped: capped, cap: cap, debitsPosted: debitsPosted, creditsPosted: creditsPosted,
            debitsPending: debitsPending, creditsPending: creditsPending, balance: balance,
            available: available, createdAtMs: createdAt, metadata: metadata)
    }
}

/// One credit to a user account, as spending and expiry see it.
struct Lot: Sendable {
    /// The record that credited it.
    let record: Int32
    /// The account credited.
    let account: Int32
    let amount: Int64
    /// Free part: not spent, held or expired.
    var remaining: Int64
    /// Part reserved by holds.
    var held: Int64 = 0
    /// When it expires, Unix ms; 0 if never.
    let expiresAt: Int64
    /// Whether an entry for it sits in its asset's expiry queue.
    var queued = false
}

/// A part of a lot reserved by a hold.
struct LotSlice: Sendable {
    var lot: Int32
    var amount: Int64
}

/// A journal record: a transfer, the post or void of a hold, a hold's timeout or a lot's expiry.
/// Its sequence is its index + 1. Everything but the state fields is immutable once appended
/// (and is what the hash chain covers).
struct JournalRecord: Sendable {
    let transferId: String
    let type: Retain_V1_LedgerRecordType
    let debit: Int32
    let credit: Int32
    let amount: Int64
    let kind: Retain_V1_TransferKind
    let linked: Bool
    let pending: Bool
    let timeoutMs: Int64
    let expiresAtMs: Int64
    let committedAt: Int64
    let reason: String
    let metadata: [String: String]
    /// POST, VOID, TIMEOUT: the hold. EXPIRY: the lot's crediting record. -1 otherwise.
    let related: Int32
    // State, changing over time.
    /// Current state (holds change; others stay POSTED, or VOIDED/EXPIRED for void records).
    var state: Retain_V1_TransferState
    /// Holds: when resolved.
    var resolvedAt: Int64 = 0
    /// Holds: the amount posted.
    var postedAmount: Int64 = 0
    /// Holds: the record that resolved it; -1 while pending.
    var resolvedBy: Int32 = -1
    /// The lot this record credited, or -1.
    var lot: Int32 = -1

    init(
        transferId: String, type: Retain_V1_LedgerRecordType, debit: Int32, credit: Int32, amount: Int64,
        kind: Retain_V1_TransferKind, linked: Bool = false, pending: Bool = false, timeoutMs: Int64 = 0,
        expiresAtMs: Int64 = 0, committedAt: Int64, reason: String = "", metadata: [String: String] = [:],
        related: Int32 = -1
    ) {
        self.transferId = transferId
        self.type = type
        self.debit = debit
        self.credit = credit
        self.amount = amount
        self.kind = kind
        self.linked = linked
        self.pending = pending
        self.timeoutMs = timeoutMs
        self.expiresAtMs = expiresAtMs
        self.committedAt = committedAt
        self.reason = reason
        self.metadata = metadata
        self.related = related
        switch type {
        case .void: state = .voided
        case .timeout: state = .expired
        default: state = pending ? .pending : .posted
        }
    }

    /// For a hold with a timeout: when it times out.
    var timesOutAt: Int64 { pending && timeoutMs > 0 ? committedAt + timeoutMs : 0 }

    /// True for records shown in statements only with include_pending: holds, voids, timeouts.
    var isHoldMovement: Bool { (type == .transfer && pending) || type == .void || type == .timeout }
}

/// Totals of one transfer kind on user accounts.
struct KindTotals: Sendable {
    var credited: Int64 = 0
    var debited: Int64 = 0
    var count: UInt64 = 0
}

/// Running totals of one asset over all accounts, kept as transfers apply.
struct AssetTotals: Sendable {
    var debitsPosted: Int64 = 0
    var creditsPosted: Int64 = 0
    var debitsPending: Int64 = 0
    var accounts: UInt64 = 0
    var userBalances: Int64 = 0
    var kinds = [KindTotals](repeating: KindTotals(), count: 12)
}
