public import RetainProto

/// The result of recomputing the hash chain from the first record.
public struct ChainVerification: Sendable, Equatable {
    /// True when every checkpoint and the head matched.
    public var verified: Bool
    /// The first sequence of the first 1024-block stretch whose checkpoint (or the head) did not
    /// match; 0 when verified.
    public var firstBadSequence: UInt64
}

extension LedgerState {
    /// Proves the books balance: sums every account (not the running totals) per asset.
    public func audit(_ request: Retain_V1_AuditRequest, at: Int64) -> Retain_V1_AuditResponse {
        let wanted = Set(request.assets)
        var sums = [Retain_V1_AssetAudit](repeating: Retain_V1_AssetAudit(), count: assetNames.count)
        for index in 0..<accounts.count {
            let account = accounts[index]
            let asset = Int(account.asset)
            sums[asset].totalDebits += account.debitsPosted
            sums[asset].totalCredits += account.creditsPosted
            sums[asset].net += account.balance
            sums[asset].totalPending += account.debitsPending
            sums[asset].accounts += 1
            if account.isUser { sums[asset].userBalances += account.balance }
        }
        var response = Retain_V1_AuditResponse(
            balanced: true, journalLength: journalLength, chainHead: chain.head,
            auditedAtMs: at)
        for (asset, name) in assetNames.enumerated() where sums[asset].accounts > 0 {
            guard wanted.isEmpty || wanted.contains(name) else { continue }
            var audit = sums[asset]
            audit.asset = name
            audit.byKind = kindTotals(assetTotals[asset].kinds)
            if audit.net != 0 || audit.totalCredits - audit.totalDebits != 0 { response.balanced = false }
            response.assets.append(audit)
        }
        response.assets.sort { $0.asset < $1.asset }
        if request.verifyChain {
            let verification = verifyChain()
            response.chainVerified = verification.verified
            response.firstBadSequence = verification.firstBadSequence
        }
        return response
    }

    /// Recomputes the hash chain over the records and compares it with the checkpoints and head.
    public func verifyChain() -> ChainVerification {
        var recomputed = HashChain()
        var encoder = PostingEncoder(capacity: 1 << 16)
        var record: Int32 = 0
        var checkpoint = 0
        for end in chain.blockEnds {
            encoder.reset()
            guard end <= journalLength else { return ChainVerification(verified: false, firstBadSequence: UInt64(record) + 1) }
            while UInt64(record) < end {
                encodePosting(record, into: &encoder)
                record += 1
            }
            recomputed.seal(encoder, journalLength: end)
            if recomputed.blockEnds.count % HashChain.checkpointInterval == 0 {
                if recomputed.head != chain.checkpoints[checkpoint] {
                    let first = checkpoint == 0 ? 1 : chain.blockEnds[checkpoint * HashChain.checkpointInterval - 1] + 1
                    return ChainVerification(verified: false, firstBadSequence: first)
                }
                checkpoint += 1
            }
        }
        guard recomputed.head == chain.head, UInt64(record) == journalLength else {
            let first = checkpoint == 0 ? 1 : chain.blockEnds[checkpoint * HashChain.checkpointInterval - 1] + 1
            return ChainVerification(verified: false, firstBadSequence: first)
        }
        return ChainVerification(verified: true, firstBadSequence: 0)
    }

    /// Checks the invariants the ledger promises, for tests: per asset the balances sum to
    /// zero; no user, redemption, expiry or penalty account is below zero (available);
    /// capped accounts stay above -cap; a user account's lots add up to its balance and holds.
    /// Returns the broken ones, empty when all hold.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        var nets = [Int64](repeating: 0, count: assetNames.count)
        var pending = [Int64](repeating: 0, count: assetNames.count)
        for index in 0..<accounts.count {
            let account = accounts[index]
            nets[Int(account.asset)] += account.balance
            pending[Int(account.asset)] += account.debitsPending
            if account.address.neverNegative, account.available < 0 {
                problems.append("\(account.id) has available \(account.available)")
            }
            if account.capped, account.available < -account.cap {
                problems.append("\(account.id) is below its cap: \(account.available) < -\(account.cap)")
            }
            if account.isUser {
                var remaining: Int64 = 0
                var held: Int64 = 0
                for lot in account.lots {
                    remaining += lots[lot].remaining
                    held += lots[lot].held
                }
                if remaining + held != account.balance || held != account.debitsPending {
                    problems.append(
                        "\(account.id): lots hold \(remaining) free and \(held) held, balance \(account.balance), pending \(account.debitsPending)"
                    )
                }
            }
        }
        for (asset, name) in assetNames.enumerated() {
            if nets[asset] != 0 { problems.append("\(name) sums to \(nets[asset])") }
            let totals = assetTotals[asset]
            if totals.creditsPosted != totals.debitsPosted { problems.append("\(name) running totals differ") }
            if totals.debitsPending != pending[asset] { problems.append("\(name) pending totals differ") }
        }
        return problems
    }
}
