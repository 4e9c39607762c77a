import RetainProto

extension LedgerState {
    mutating func applyOpenAccount(_ request: Retain_V1_OpenAccountRequest, at: Int64) {
        guard let address = AccountAddress(parsing: request.accountId), !address.opensItself else {
            outcome.error = .invalid(field: "account_id", reason: "must be budget:<campaign_id>:<asset> or system:<name>:<asset>")
            return
        }
        let cap = request.capped ? request.cap : 0
        if let index = accountRef(request.accountId) {
            let account = accounts[index]
            guard account.capped == request.capped, account.cap == cap, account.metadata == request.metadata else {
                outcome.error = LedgerError.exists("account \(request.accountId) exists with a different cap or metadata")
                return
            }
            outcome.account = account.proto
            outcome.created = false
            return
        }
        let index = openAccount(request.accountId, address, capped: request.capped, cap: cap, metadata: request.metadata, at: at)
        outcome.account = accounts[index].proto
        outcome.created = true
    }

    mutating func applySetAccountCap(_ request: Retain_V1_SetAccountCapRequest) {
        guard let address = AccountAddress(parsing: request.accountId) else {
            outcome.error = .invalid(field: "account_id", reason: "is not a valid account id")
            return
        }
        guard let index = accountRef(request.accountId) else {
            outcome.error = .notFound(what: "account", id: request.accountId)
            return
        }
        guard !address.opensItself else {
            outcome.error = LedgerError.refused("only budget and system accounts have a cap")
            return
        }
        let issued = max(0, -accounts[index].available)
        if request.capped, request.cap < issued {
            outcome.error = LedgerError.refused("\(request.accountId) has already issued \(issued), above the new cap \(request.cap)")
            return
        }
        accounts[index].capped = request.capped
        accounts[index].cap = request.capped ? request.cap : 0
        outcome.account = accounts[index].proto
    }
}
