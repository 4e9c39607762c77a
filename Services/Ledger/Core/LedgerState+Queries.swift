public import RetainProto

extension LedgerState {
    /// One account. `.invalid` for a malformed id, `.notFound` for an unknown one.
    public func account(_ id: String) throws -> Retain_V1_Account {
        guard AccountAddress(parsing: id) != nil else {
            throw LedgerError.invalid(field: "account_id", reason: "is not a valid account id")
        }
        guard let index = accountRef(id) else { throw LedgerError.notFound(what: "account", id: id) }
        return accounts[index].proto
    }

    /// Accounts by kind, asset or user, ordered by id, paged.
    public func listAccounts(_ request: Retain_V1_ListAccountsRequest) throws -> Retain_V1_ListAccountsResponse {
        let size = try PageCursor.pageSize(request.page)
        let fingerprint = PageCursor.fingerprint(["accounts", String(request.kind.rawValue), request.asset, request.userId])
        let after = try PageCursor.position(request.page, fingerprint: fingerprint)
        var candidates: [Int32]
        if !request.userId.isEmpty {
            candidates = userAccounts[request.userId] ?? []
        } else {
            candidates = Array(0..<Int32(accounts.count))
        }
        candidates = candidates.filter { index in
            let account = accounts[index]
            return (request.kind == .unspecified || account.address.kind == request.kind)
                && (request.asset.isEmpty || account.address.asset == request.asset)
        }
        let ids = candidates.map { accounts[$0].id }.sorted()
        let start = after.map { position in ids.firstIndex { $0 > position } ?? ids.count } ?? 0
        let page = ids[start..<min(ids.count, start + size)]
        var response = Retain_V1_ListAccountsResponse(
            accounts: page.map { accounts[accountRef($0)!].proto },
            pageInfo: Retain_V1_PageInfo(total: UInt64(ids.count)))
        if start + size < ids.count, let last = page.last {
            response.pageInfo?.nextPageToken = PageCursor.token(fingerprint: fingerprint, position: last)
        }
        return response
    }

    /// Transfers by id, in request order, and the ids not found.
    public func lookupTransfers(_ ids: [String]) -> Retain_V1_LookupTransfersResponse {
        var response = Retain_V1_LookupTransfersResponse()
        for id in ids {
            if let index = recordRef(id) {
                response.transfers.append(transferRecord(index))
            } else {
                response.missingIds.append(id)
            }
        }
        return response
    }

    /// One record as the wire shows it.
    func transferRecord(_ index: Int32) -> Retain_V1_TransferRecord {
        let record = records[index]
        let transfer = Retain_V1_Transfer(
            transferId: record.transferId, debitAccountId: accounts[record.debit].id,
            creditAccountId: accounts[record.credit].id, amount: record.amount, asset: accounts[record.debit].address.asset,
            kind: record.kind, linked: record.linked, pending: record.pending, timeoutMs: record.timeoutMs,
            expiresAtMs: record.expiresAtMs, reason: record.reason, metadata: record.metadata)
        let resolves = record.type == .post || record.type == .void || record.type == .timeout
        return Retain_V1_TransferRecord(
            transfer: transfer, state: record.state, sequence: UInt64(index) + 1, committedAtMs: record.committedAt,
            resolvedAtMs: record.resolvedAt, postedAmount: record.postedAmount,
            resolvedByTransferId: record.resolvedBy >= 0 ? records[record.resolvedBy].transferId : "",
            pendingTransferId: resolves ? records[record.related].transferId : "",
            timesOutAtMs: record.state == .pending ? record.timesOutAt : 0)
    }

    /// A user's balances per asset at `now`, sorted by asset.
    public func balances(_ request: Retain_V1_GetBalanceRequest, now: Int64) -> Retain_V1_GetBalanceResponse {
        let window = request.expiringWithinMs == 0 ? 30 * 86_400_000 : request.expiringWithinMs
        let wanted = Set(request.assets)
        var balances: [Retain_V1_AssetBalance] = []
        for index in userAccounts[request.userId] ?? [] {
            let account = accounts[index]
            guard wanted.isEmpty || wanted.contains(account.address.asset) else { continue }
            balances.append(balance(of: index, now: now, window: window, includeLots: request.includeLots))
        }
        balances.sort { $0.asset < $1.asset }
        return Retain_V1_GetBalanceResponse(balances: balances, asOfMs: now)
    }

    /// One user account's balance.
    func balance(of index: Int32, now: Int64, window: Int64, includeLots: Bool) -> Retain_V1_AssetBalance {
        let account = accounts[index]
        var result = Retain_V1_AssetBalance(
            asset: account.address.asset, accountId: account.id, balance: account.balance, held: account.debitsPending,
            available: account.available)
        let horizon = now.addingReportingOverflow(window).partialValue
        for position in account.lotHead..<account.lots.count {
            let lot = lots[account.lots[position]]
            guard lot.remaining + lot.held > 0 else { continue }
            if lot.remaining > 0, lot.expiresAt > 0 {
                if lot.expiresAt <= horizon { result.expiringSoon += lot.remaining }
                if result.nextExpiryAtMs == 0 || lot.expiresAt < result.nextExpiryAtMs {
                    result.nextExpiryAtMs = lot.expiresAt
                    result.nextExpiryAmount = lot.remaining
                } else if lot.expiresAt == result.nextExpiryAtMs {
                    result.nextExpiryAmount += lot.remaining
                }
            }
            if includeLots {
                result.lots.append(
                    Retain_V1_CreditLot(
                        lotId: records[lot.record].transferId, amount: lot.amount, remaining: lot.remaining, held: lot.held,
                        creditedAtMs: records[lot.record].committedAt, expiresAtMs: lot.expiresAt))
            }
        }
        return result
    }

    /// The user's balance in one asset (after a penalty).
    public func balance(user: String, asset: String, now: Int64) -> Retain_V1_AssetBalance {
        let id = AccountAddress.user(user, asset)
        guard let index = accountRef(id) else { return Retain_V1_AssetBalance(asset: asset, accountId: id) }
        return balance(of: index, now: now, window: 30 * 86_400_000, includeLots: false)
    }
}

extension LedgerState {
    /// The balance of `asset` of each user, in order (0 for a user without the account), as of
    /// `asOf` (nil: now). Before the latest entry, both figures are the posted balance after the
    /// account's last movement committed by then (found by binary search: the journal is in
    /// time order); holds then are not known.
    public func balances(of userIDs: [String], asset: String, asOf: Int64?, now: Int64) -> Retain_V1_GetBalancesResponse {
        let past = asOf.flatMap { $0 < lastAtMs ? $0 : nil }
        return Retain_V1_GetBalancesResponse(
            balances: userIDs.map { id in
                for index in userAccounts[id] ?? [] where accounts[index].address.asset == asset {
                    let account = accounts[index]
                    guard let past else {
                        return Retain_V1_UserBalance(userId: id, balance: account.balance, available: account.available)
                    }
                    var low = 0
                    var high = account.postings.count
                    while low < high {
                        let middle = (low + high) / 2
                        if records[account.postings[middle].record].committedAt <= past { low = middle + 1 } else { high = middle }
                    }
                    let balance = low == 0 ? 0 : account.postings[low - 1].balanceAfter
                    return Retain_V1_UserBalance(userId: id, balance: balance, available: balance)
                }
                return Retain_V1_UserBalance(userId: id)
            },
            asOfMs: past ?? now)
    }
}
