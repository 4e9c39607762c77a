public import RetainFlowRules
public import RetainProto
public import RetainRuleSets
public import RetainState

/// The ledger's whole state, kept in memory and made durable by a `StateStore`: accounts with
/// their totals, the journal of records (every transfer, post, void, timeout and expiry, in
/// sequence order), credit lots, holds, and the hash chain over the journal.
///
/// Every change is a `Retain_V1_LedgerEntry`. Applying it decides every outcome from the state
/// and the entry's own time, so replay reproduces the outcomes; the live apply also completes
/// the entry with the chain head it produced, which replay recomputes and compares.
public struct LedgerState: PersistentState, RuleSetKeeping {
    public typealias LogEntry = Retain_V1_LedgerEntry

    var accounts = ChunkedArray<LedgerAccount>()
    var accountIndex = StringIndex()
    /// User id to the indexes of the user's accounts.
    var userAccounts = ShardedDictionary<[Int32]>()
    var records = ChunkedArray<JournalRecord>()
    var recordIndex = StringIndex()
    var lots = ChunkedArray<Lot>()
    /// Pending holds on user accounts to the lots they reserve.
    var holdSlices: [Int32: [LotSlice]] = [:]
    /// Holds with a timeout, by when they time out (may hold resolved ones: skipped).
    var timeouts = MinHeap<DueItem>()
    /// Per asset: lots with an expiry, by when they expire (may hold used-up ones: skipped).
    var expiryQueues: [MinHeap<DueItem>] = []
    var assetNames: [String] = []
    var assetIndex: [String: Int32] = [:]
    var assetTotals: [AssetTotals] = []
    var chain = HashChain()
    /// Coupon definitions by id.
    var couponDefinitions: [String: Retain_V1_CouponDefinition] = [:]
    /// Issued coupons, in issue order.
    var coupons: [IssuedCoupon] = []
    /// Coupon code to its index in ``coupons``.
    var couponIndex: [String: Int32] = [:]
    /// User id to the indexes of the user's coupons, in issue order.
    var userCoupons: [String: [Int32]] = [:]
    /// The ledger's clock: the time of the last applied entry.
    public internal(set) var lastAtMs: Int64 = 0
    /// What the entry being applied decides: scratch, handed back by `apply(completing:)` and
    /// emptied there, so no outcome stays parked in the state.
    var outcome = LedgerOutcome()
    /// Canonical bytes of the postings the entry being applied added (scratch).
    var block = PostingEncoder(capacity: 1 << 16)
    /// The versions of the rewards the gateway's flows pay (retain.v1.RuleSets "flows",
    /// docs/CONFIG.md): kept here, by the one writer that pays them; gateways read the version
    /// in force.
    public internal(set) var ruleSets = RuleSetHistory<FlowConfiguration>()

    public init() {}

    /// The entry that stores a rule-set version: no postings, at the ledger's clock.
    public func ruleSetEntry(_ version: Retain_V1_RuleSetVersion) -> Retain_V1_LedgerEntry {
        Retain_V1_LedgerEntry(kind: .ruleSetVersion, atMs: max(version.createdAtMs, lastAtMs), ruleSetVersion: version)
    }

    /// Number of journal records: the last sequence.
    public var journalLength: UInt64 { UInt64(records.count) }
    /// The hash chain's head (SHA-256, 32 bytes).
    public var chainHead: [UInt8] { chain.head }
    /// Number of accounts.
    public var accountCount: Int { accounts.count }

    // MARK: Applying entries

    public mutating func apply(_ entry: Retain_V1_LedgerEntry) throws {
        try applyEntry(entry)
        outcome = LedgerOutcome()
        guard entry.journalLength == journalLength else {
            throw StateRecoveryError(
                "ledger entry at \(entry.atMs) ms: journal length \(journalLength) after replay, "
                    + "\(entry.journalLength) when it was written: the journal was altered or is corrupt")
        }
        guard entry.chainHead == chain.head else {
            throw StateRecoveryError(
                "ledger hash chain mismatch after journal sequence \(journalLength) (entry at "
                    + "\(entry.atMs) ms): the head recomputed at replay is \(hex(chain.head)), the log says "
                    + "\(hex(entry.chainHead)): the journal was altered or is corrupt; refusing to start")
        }
    }

    /// Applies a live entry, completes it with the journal length and chain head, and returns
    /// what it decided.
    public mutating func apply(completing entry: inout Retain_V1_LedgerEntry) throws -> LedgerOutcome {
        try applyEntry(entry)
        entry.journalLength = journalLength
        entry.chainHead = chain.head
        // A batch that carries its request's bytes is logged as those bytes alone (replay
        // decodes them), not as its transfers encoded again.
        if !entry.createTransfersRequest.isEmpty { entry.transfers = [] }
        var decided = LedgerOutcome()
        swap(&decided, &outcome)
        return decided
    }

    private mutating func applyEntry(_ entry: Retain_V1_LedgerEntry) throws {
        guard entry.atMs >= lastAtMs else {
            throw StateRecoveryError("ledger entry at \(entry.atMs) ms is older than the previous one at \(lastAtMs) ms")
        }
        guard (entry.kind.rawValue >= 1 && entry.kind.rawValue <= 13) || entry.kind == .ruleSetVersion else {
            throw StateRecoveryError("ledger entry of unknown kind \(entry.kind)")
        }
        // Decoded before anything changes: bytes that do not decode leave the state as it was.
        let batch = entry.kind == .createTransfers ? try Self.batch(of: entry) : []
        if entry.kind == .ruleSetVersion {
            // Checked before anything changes: a refused version leaves the state as it was.
            do {
                try ruleSets.apply(entry.ruleSetVersion ?? .init())
            } catch {
                throw LedgerError.invalid(field: "rule_set_version", reason: error.description)
            }
        }
        lastAtMs = entry.atMs
        outcome = LedgerOutcome()
        block.reset()
        let at = entry.atMs
        switch entry.kind {
        case .openAccount: applyOpenAccount(entry.openAccount ?? .init(), at: at)
        case .setAccountCap: applySetAccountCap(entry.setAccountCap ?? .init())
        case .createTransfers: applyCreateTransfers(batch, at: at)
        case .postPending:
            let request = entry.postPending ?? .init()
            applyResolve(
                pendingID: request.pendingTransferId, transferID: request.transferId, post: true,
                amount: request.amount, reason: request.reason, at: at)
        case .voidPending:
            let request = entry.voidPending ?? .init()
            applyResolve(
                pendingID: request.pendingTransferId, transferID: request.transferId, post: false,
                amount: 0, reason: request.reason, at: at)
        case .expireLots: applyExpireLots(entry.expireLots ?? .init(), at: at)
        case .timeOutHolds: applyTimeouts(asOf: entry.asOfMs, at: at)
        case .penalize: applyPenalize(entry.penalize ?? .init(), at: at)
        case .defineCoupon: applyDefineCoupon(entry.defineCoupon ?? .init(), at: at)
        case .issueCoupon: applyIssueCoupon(entry.issueCoupon ?? .init(), at: at)
        case .redeemCoupon: applyRedeemCoupon(entry.redeemCoupon ?? .init(), at: at)
        case .refundCoupon: applyRefundCoupon(entry.refundCoupon ?? .init(), at: at)
        case .ruleSetVersion: break
        default: applyReferral(entry.rewardReferral ?? .init(), at: at)
        }
        if !block.isEmpty { chain.seal(block, journalLength: journalLength) }
    }

    /// The transfers of a CREATE_TRANSFERS entry: `transfers` when it has them (an entry made
    /// live, or logged before the request's bytes were), otherwise decoded from
    /// `create_transfers_request`, the request's bytes as the client sent them.
    static func batch(of entry: Retain_V1_LedgerEntry) throws -> [Retain_V1_Transfer] {
        if !entry.transfers.isEmpty || entry.createTransfersRequest.isEmpty { return entry.transfers }
        do {
            return try ProtoCodec.decode(Retain_V1_CreateTransfersRequest.self, from: entry.createTransfersRequest).transfers
        } catch {
            throw StateRecoveryError(
                "ledger entry at \(entry.atMs) ms: create_transfers_request does not decode as a CreateTransfersRequest: \(error)")
        }
    }

    // MARK: Assets and accounts

    /// The index of account `id`, if open.
    @inline(__always)
    func accountRef(_ id: String) -> Int32? {
        accountIndex.find(id) { accounts[$0].id }
    }

    /// The index of account `id`, if open; `hash` is its ``StringIndex/hash(_:)`` when known.
    @inline(__always)
    func accountRef(_ id: String, hash: UInt64?) -> Int32? {
        guard let hash else { return accountRef(id) }
        return accountIndex.find(id, hash: hash) { accounts[$0].id }
    }

    /// The index of the record with transfer id `id`, if any.
    @inline(__always)
    func recordRef(_ id: String) -> Int32? {
        recordRef(id, hash: StringIndex.hash(id))
    }

    /// The index of the record with transfer id `id`, whose ``StringIndex/hash(_:)`` is `hash`.
    @inline(__always)
    func recordRef(_ id: String, hash: UInt64) -> Int32? {
        recordIndex.find(id, hash: hash) { records[$0].transferId }
    }

    /// The index of `name` in the asset table, adding it when new.
    mutating func assetRef(_ name: String) -> Int32 {
        if let index = assetIndex[name] { return index }
        let index = Int32(assetNames.count)
        assetNames.append(name)
        assetIndex[name] = index
        assetTotals.append(AssetTotals())
        expiryQueues.append(MinHeap())
        return index
    }

    /// Opens an account and returns its index.
    @discardableResult
    mutating func openAccount(
        _ id: String, _ address: AccountAddress, capped: Bool = false, cap: Int64 = 0,
        metadata: [String: String] = [:], at: Int64
    ) -> Int32 {
        let asset = assetRef(address.asset)
        let index = Int32(accounts.count)
        accounts.append(
            LedgerAccount(
                id: id, address: address, asset: asset, capped: capped, cap: capped ? cap : 0,
                createdAt: at, metadata: metadata))
        accountIndex.insert(id, index)
        if address.kind == .user { userAccounts.modify(address.owner, default: []) { $0.append(index) } }
        assetTotals[Int(asset)].accounts += 1
        return index
    }

    /// Closes the accounts opened after the first `count` (a linked chain that failed).
    mutating func closeAccounts(downTo count: Int) {
        while accounts.count > count {
            let account = accounts[accounts.count - 1]
            accountIndex.remove(account.id, Int32(accounts.count - 1))
            if account.isUser {
                userAccounts.modify(account.address.owner, default: []) { $0.removeLast() }
                if userAccounts[account.address.owner]?.isEmpty == true { userAccounts.remove(account.address.owner) }
            }
            assetTotals[Int(account.asset)].accounts -= 1
            accounts.removeLast()
        }
    }

    /// The index of a self-opening account, opening it when missing.
    mutating func systemAccount(_ address: AccountAddress, at: Int64) -> Int32 {
        let id = address.id
        return accountRef(id) ?? openAccount(id, address, at: at)
    }

    // MARK: Journal

    /// Appends a record to the journal and to the current chain block. `idHash` is the
    /// ``StringIndex/hash(_:)`` of its transfer id when the caller has it already.
    mutating func appendRecord(idHash: UInt64? = nil, _ record: JournalRecord) -> Int32 {
        let index = Int32(records.count)
        recordIndex.insert(record.transferId, hash: idHash ?? StringIndex.hash(record.transferId), index)
        records.append(record)
        // Encode into a buffer moved out of `self`: the non-mutating call reads `self`, and an
        // inout borrow of `self.block` at the same time would copy the buffer on every append.
        var encoder = PostingEncoder(capacity: 0)
        swap(&encoder, &block)
        encodePosting(index, into: &encoder)
        swap(&encoder, &block)
        return index
    }

    /// Writes record `index` in the chain's canonical form: the fields before the metadata in
    /// one piece, the metadata, then the tail in one piece.
    func encodePosting(_ index: Int32, into encoder: inout PostingEncoder) {
        // Field by field through the chunk's addressor: a `let` copy of the record would retain
        // and release each of its strings.
        let debit = records[index].debit
        let credit = records[index].credit
        let asset = Int(accounts[debit].asset)
        let kind = records[index].kind.rawValue
        let head =
            MemoryLayout<UInt64>.size + MemoryLayout<UInt8>.size + MemoryLayout<Int64>.size * 4
            + MemoryLayout.size(ofValue: kind) + MemoryLayout<UInt8>.size
            + PostingCursor.size(records[index].transferId) + PostingCursor.size(accounts[debit].id)
            + PostingCursor.size(accounts[credit].id) + PostingCursor.size(assetNames[asset])
            + PostingCursor.size(records[index].reason)
        encoder.append(size: head) { cursor in
            cursor.integer(UInt64(index) + 1)
            cursor.integer(UInt8(records[index].type.rawValue))
            cursor.integer(records[index].committedAt)
            cursor.string(records[index].transferId)
            cursor.string(accounts[debit].id)
            cursor.string(accounts[credit].id)
            cursor.integer(records[index].amount)
            cursor.string(assetNames[asset])
            cursor.integer(kind)
            cursor.integer(UInt8((records[index].linked ? 1 : 0) | (records[index].pending ? 2 : 0)))
            cursor.integer(records[index].timeoutMs)
            cursor.integer(records[index].expiresAtMs)
            cursor.string(records[index].reason)
        }
        encoder.metadata(records[index].metadata)
        switch records[index].type {
        case .post, .void, .timeout:
            let related = records[index].related
            encoder.append(size: PostingCursor.size(records[related].transferId) + 4) { cursor in
                cursor.string(records[related].transferId)
                cursor.integer(UInt32(0))
            }
        case .expiry:
            let related = records[index].related
            encoder.append(size: 4 + PostingCursor.size(records[related].transferId)) { cursor in
                cursor.integer(UInt32(0))
                cursor.string(records[related].transferId)
            }
        default:
            encoder.append(size: 8) { cursor in
                cursor.integer(UInt32(0))
                cursor.integer(UInt32(0))
            }
        }
    }

    // MARK: Effects on balances, lots and holds (shared by live apply and restore)

    /// Applies what record `index` does to balances, lots and holds.
    mutating func applyEffects(of index: Int32) {
        // The fields it needs, not a copy of the record (which would retain its strings).
        let (type, debit, credit) = (records[index].type, records[index].debit, records[index].credit)
        let (amount, kind, related) = (records[index].amount, records[index].kind, records[index].related)
        switch type {
        case .transfer:
            if records[index].pending {
                hold(index)
            } else {
                // A coupon's redemption spends that coupon's lot; everything else FEFO.
                let lot = kind == .redemption ? couponLot(ofRedemption: index) : nil
                debitPosted(debit, amount, record: index, kind: kind, from: lot.map { .lot($0) } ?? .soonestExpiring)
                creditPosted(credit, amount, record: index, kind: kind, expiresAt: records[index].expiresAtMs)
            }
        case .post:
            resolveHold(related, by: index, posting: amount, state: .posted, at: records[index].committedAt)
        case .void:
            resolveHold(related, by: index, posting: 0, state: .voided, at: records[index].committedAt)
        case .timeout:
            resolveHold(related, by: index, posting: 0, state: .expired, at: records[index].committedAt)
        default:
            let lot = records[related].lot
            debitPosted(debit, amount, record: index, kind: .expiry, from: .lot(lot))
            creditPosted(credit, amount, record: index, kind: .expiry, expiresAt: 0)
        }
    }

    /// Where a posted debit of a user account takes its value from.
    enum DebitSource {
        /// Free lots in spending order: soonest-expiring first (see ``spendingKey(_:)``).
        case soonestExpiring
        /// One lot (expiry).
        case lot(Int32)
        /// Lots already reserved by a hold (the caller moves them).
        case held
    }

    mutating func debitPosted(
        _ account: Int32, _ amount: Int64, record: Int32, kind: Retain_V1_TransferKind,
        from source: DebitSource
    ) {
        accounts[account].debitsPosted += amount
        let asset = Int(accounts[account].asset)
        assetTotals[asset].debitsPosted += amount
        guard accounts[account].isUser else { return }
        let balance = accounts[account].creditsPosted - accounts[account].debitsPosted
        switch source {
        case .soonestExpiring: consumeSoonestExpiring(account, amount)
        case .lot(let lot):
            lots[lot].remaining -= amount
            advanceLotHead(account)
        case .held: break
        }
        assetTotals[asset].userBalances -= amount
        assetTotals[asset].kinds[Int(kind.rawValue)].debited += amount
        assetTotals[asset].kinds[Int(kind.rawValue)].count += 1
        accounts[account].postings.append(PostingRef(record: record, balanceAfter: balance))
    }

    mutating func creditPosted(
        _ account: Int32, _ amount: Int64, record: Int32, kind: Retain_V1_TransferKind,
        expiresAt: Int64
    ) {
        accounts[account].creditsPosted += amount
        let asset = Int(accounts[account].asset)
        assetTotals[asset].creditsPosted += amount
        guard accounts[account].isUser else { return }
        let balance = accounts[account].creditsPosted - accounts[account].debitsPosted
        createLot(account, record: record, amount: amount, expiresAt: expiresAt)
        assetTotals[asset].userBalances += amount
        assetTotals[asset].kinds[Int(kind.rawValue)].credited += amount
        assetTotals[asset].kinds[Int(kind.rawValue)].count += 1
        accounts[account].postings.append(PostingRef(record: record, balanceAfter: balance))
    }

    /// Reserves a hold's amount: pending totals, and on a user account the soonest-expiring free lots.
    mutating func hold(_ index: Int32) {
        let record = records[index]
        accounts[record.debit].debitsPending += record.amount
        accounts[record.credit].creditsPending += record.amount
        assetTotals[Int(accounts[record.debit].asset)].debitsPending += record.amount
        if accounts[record.debit].isUser {
            holdSlices[index] = reserveSoonestExpiring(record.debit, record.amount)
            accounts[record.debit].postings.append(PostingRef(record: index, balanceAfter: accounts[record.debit].balance))
        }
        if accounts[record.credit].isUser {
            accounts[record.credit].postings.append(PostingRef(record: index, balanceAfter: accounts[record.credit].balance))
        }
        if record.timeoutMs > 0 { timeouts.push(DueItem(time: record.timesOutAt, reference: index)) }
    }

    /// Resolves hold `index` through record `resolver`: posts `posting` of it (0 for a void or
    /// timeout) and releases the rest.
    mutating func resolveHold(_ index: Int32, by resolver: Int32, posting: Int64, state: Retain_V1_TransferState, at: Int64) {
        let record = records[index]
        let debit = record.debit
        let credit = record.credit
        accounts[debit].debitsPending -= record.amount
        accounts[credit].creditsPending -= record.amount
        assetTotals[Int(accounts[debit].asset)].debitsPending -= record.amount
        if accounts[debit].isUser, let slices = holdSlices.removeValue(forKey: index) {
            var toPost = posting
            for slice in slices {
                let taken = min(slice.amount, toPost)
                toPost -= taken
                lots[slice.lot].held -= slice.amount
                lots[slice.lot].remaining += slice.amount - taken
                if slice.amount > taken { requeue(slice.lot) }
            }
            advanceLotHead(debit)
        }
        if posting > 0 {
            debitPosted(debit, posting, record: resolver, kind: record.kind, from: .held)
            creditPosted(credit, posting, record: resolver, kind: record.kind, expiresAt: record.expiresAtMs)
        } else {
            for account in [debit, credit] where accounts[account].isUser {
                accounts[account].postings.append(PostingRef(record: resolver, balanceAfter: accounts[account].balance))
            }
        }
        records[index].state = state
        records[index].resolvedAt = at
        records[index].postedAmount = posting
        records[index].resolvedBy = resolver
    }

    // MARK: Lots

    /// Where a lot stands in its account's spending order: soonest-expiring first, lots that
    /// never expire last, equal expiries in credit order (lot numbers grow with the journal).
    /// A pure function of the lot, so live apply, replay and restore build the same order.
    @inline(__always)
    func spendingKey(_ lot: Int32) -> (expiresAt: Int64, lot: Int32) {
        let expiresAt = lots[lot].expiresAt
        return (expiresAt > 0 ? expiresAt : .max, lot)
    }

    /// Adds a lot and files it in its account's spending order (among the lots from the head
    /// on: those before are used up and never spent again).
    mutating func createLot(_ account: Int32, record: Int32, amount: Int64, expiresAt: Int64) {
        let lot = Int32(lots.count)
        lots.append(Lot(record: record, account: account, amount: amount, remaining: amount, expiresAt: expiresAt))
        let key = spendingKey(lot)
        let head = accounts[account].lotHead
        var high = accounts[account].lots.count
        // Usual case first: credits with one validity arrive in expiry order.
        if high > head, spendingKey(accounts[account].lots[high - 1]) > key {
            var low = head
            while low < high {
                let middle = (low + high) >> 1
                if spendingKey(accounts[account].lots[middle]) < key { low = middle + 1 } else { high = middle }
            }
        }
        accounts[account].lots.insert(lot, at: high)
        records[record].lot = lot
        if expiresAt > 0 { requeue(lot) }
    }

    /// Puts a lot with an expiry back in its asset's queue if it is not there.
    mutating func requeue(_ lot: Int32) {
        guard lots[lot].expiresAt > 0, !lots[lot].queued else { return }
        lots[lot].queued = true
        let asset = Int(accounts[lots[lot].account].asset)
        expiryQueues[asset].push(DueItem(time: lots[lot].expiresAt, reference: lot))
    }

    /// Takes `amount` from the account's free lots in spending order.
    mutating func consumeSoonestExpiring(_ account: Int32, _ amount: Int64) {
        var left = amount
        var position = accounts[account].lotHead
        while left > 0 {
            precondition(
                position < accounts[account].lots.count, "ledger invariant broken: lots of \(accounts[account].id) do not cover its balance"
            )
            let lot = accounts[account].lots[position]
            let taken = min(lots[lot].remaining, left)
            lots[lot].remaining -= taken
            left -= taken
            position += 1
        }
        advanceLotHead(account)
    }

    /// Reserves `amount` of the account's free lots in spending order, for a hold.
    mutating func reserveSoonestExpiring(_ account: Int32, _ amount: Int64) -> [LotSlice] {
        var slices: [LotSlice] = []
        var left = amount
        var position = accounts[account].lotHead
        while left > 0 {
            precondition(
                position < accounts[account].lots.count, "ledger invariant broken: lots of \(accounts[account].id) do not cover its hold")
            let lot = accounts[account].lots[position]
            let taken = min(lots[lot].remaining, left)
            if taken > 0 {
                lots[lot].remaining -= taken
                lots[lot].held += taken
                slices.append(LotSlice(lot: lot, amount: taken))
                left -= taken
            }
            position += 1
        }
        return slices
    }

    /// Moves the account's first-lot position past lots that are used up, compacting now and then.
    mutating func advanceLotHead(_ account: Int32) {
        var head = accounts[account].lotHead
        let count = accounts[account].lots.count
        while head < count {
            let lot = accounts[account].lots[head]
            guard lots[lot].remaining == 0, lots[lot].held == 0 else { break }
            head += 1
        }
        if head >= 256, head * 2 >= count {
            accounts[account].lots.removeFirst(head)
            head = 0
        }
        accounts[account].lotHead = head
    }
}

/// Lower-case hex of some bytes.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
