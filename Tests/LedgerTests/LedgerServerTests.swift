import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainStorage
import RetainWire
import Testing

/// The real `retain-ledger` over TCP: every rpc's happy path and errors, restarts by SIGTERM and
/// SIGKILL that keep everything, and a log altered on disk that recovery refuses.
@Suite("retain-ledger over TCP", .serialized)
struct LedgerServerTests {
    static func start(_ directory: URL, _ extra: [String] = []) throws -> ServerProcess {
        try ServerProcess("retain-ledger", arguments: ["serve", "--data-dir", directory.path, "--log-level", "warning"] + extra)
    }

    static func client(_ server: ServerProcess) -> RPCClient {
        RPCClient(host: "127.0.0.1", port: server.port)
    }

    @Test("every rpc answers over the wire, and the books survive SIGKILL and SIGTERM restarts")
    func restarts() async throws {
        let directory = try makeTemporaryDirectory("ledger-restart")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ledger = Retain_V1_Ledger.self
        var server = try Self.start(directory, ["--snapshot-every-records", "4"])
        var client = Self.client(server)
        let opened = try await client.unary(ledger.openAccount, .init(accountId: "budget:spring:points", capped: true, cap: 1000))
        #expect(opened.created)
        await #expect(throws: RPCError.self) {
            _ = try await client.unary(ledger.openAccount, .init(accountId: "user:amy:points"))
        }
        let created = try await client.unary(
            ledger.createTransfers,
            .init(transfers: [
                .init(
                    transferId: "t1", debitAccountId: "budget:spring:points", creditAccountId: "user:amy:points", amount: 300,
                    asset: "points", kind: .welcomeBonus),
                .init(
                    transferId: "t2", debitAccountId: "user:amy:points", creditAccountId: "redemption:points", amount: 500,
                    asset: "points", kind: .redemption),
            ]))
        #expect(created.results.map(\.code) == [.ok, .insufficientFunds])
        do {
            _ = try await client.unary(ledger.createTransfers, .init(transfers: []))
            Issue.record("an empty batch was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument && error.details["field"] == "transfers")
        }
        _ = try await client.unary(
            ledger.createTransfers,
            .init(transfers: [
                .init(
                    transferId: "hold-1", debitAccountId: "user:amy:points", creditAccountId: "redemption:points", amount: 100,
                    asset: "points", kind: .redemption, pending: true)
            ]))
        let posted = try await client.unary(ledger.postPending, .init(pendingTransferId: "hold-1", transferId: "hold-1-post", amount: 60))
        #expect(posted.pending?.postedAmount == 60)
        do {
            _ = try await client.unary(ledger.voidPending, .init(pendingTransferId: "hold-1", transferId: "hold-1-void"))
            Issue.record("a posted hold was voided")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.details["result"] == "TRANSFER_RESULT_CODE_PENDING_ALREADY_POSTED")
        }
        let referral = try await client.unary(
            ledger.rewardReferral,
            .init(
                userId: "newbie", inviterUserId: "amy", campaignId: "spring", inviterReward: .init(value: 50, asset: "points"),
                inviteeReward: .init(value: 20, asset: "points")))
        #expect(referral.results.count == 2 && !referral.replayed)
        let penalty = try await client.unary(
            ledger.penalize,
            .init(
                userId: "newbie", transferId: "pen-1", amount: .init(value: 5, asset: "points"), reason: "spam", actor: "mod"))
        #expect(penalty.penalized == 5 && penalty.balance?.balance == 15)
        let before = try await client.unary(ledger.getBalance, .init(userId: "amy"))
        #expect(before.balances.first?.balance == 290)

        // Crash: nothing acknowledged may be lost.
        server.kill()
        await client.close()
        server = try Self.start(directory)
        client = Self.client(server)
        #expect(try await client.unary(ledger.getBalance, .init(userId: "amy")).balances == before.balances)
        let replay = try await client.unary(
            ledger.rewardReferral,
            .init(
                userId: "newbie", inviterUserId: "amy", campaignId: "spring", inviterReward: .init(value: 50, asset: "points"),
                inviteeReward: .init(value: 20, asset: "points")))
        #expect(replay.replayed && replay.results.map(\.sequence) == referral.results.map(\.sequence))
        let statement = try await client.unary(ledger.getStatement, .init(userId: "amy"))
        #expect(statement.postings.map(\.transferId) == ["referral:newbie:inviter", "hold-1-post", "t1"])
        let account = try await client.unary(ledger.getAccount, .init(accountId: "budget:spring:points"))
        #expect(account.account?.balance == -370)
        let list = try await client.unary(ledger.listAccounts, .init(kind: .user))
        #expect(list.accounts.map(\.accountId) == ["user:amy:points", "user:newbie:points"])
        let found = try await client.unary(ledger.lookupTransfers, .init(transferIds: ["t1", "t2", "hold-1"]))
        #expect(found.missingIds == ["t2"] && found.transfers.last?.state == .posted)
        let year = try await client.unary(
            ledger.getYearlySummary,
            .init(
                userId: "amy",
                year: Int32(Calendar.current.component(.year, from: Date()))))
        #expect(year.assets.first?.earned == 350)

        // Graceful stop, then the books and the chain still verify.
        #expect(server.stop() == 0)
        await client.close()
        server = try Self.start(directory)
        client = Self.client(server)
        let audit = try await client.unary(ledger.audit, .init(verifyChain: true))
        #expect(audit.balanced && audit.chainVerified && audit.journalLength == 6 && audit.chainHead.count == 32)
        let expired = try await client.unary(ledger.expireLots, .init())
        #expect(expired.expiredLots == 0)
        server.stop()
        await client.close()
    }

    @Test(
        "coupons over the wire: define, issue, a redemption below the threshold refused with its reason, redeem, refund; all survive SIGTERM and SIGKILL restarts"
    )
    func coupons() async throws {
        let directory = try makeTemporaryDirectory("ledger-coupons")
        defer { try? FileManager.default.removeItem(at: directory) }
        let ledger = Retain_V1_Ledger.self
        var server = try Self.start(directory, ["--snapshot-every-records", "3"])
        var client = Self.client(server)
        let definition = Retain_V1_CouponDefinition(
            couponId: "full100minus20", title: "满100减20", campaignId: "spring", threshold: .init(value: 10_000, asset: "cash.cny"),
            faceValue: .init(value: 2_000, asset: "cash.cny"), validDays: 30)
        #expect(try await client.unary(ledger.defineCoupon, .init(coupon: definition)).created)
        let issued = try await client.unary(ledger.issueCoupon, .init(couponId: "full100minus20", userId: "amy", code: "AMY-1"))
        #expect(issued.coupon?.state == .available && !issued.replayed)
        do {
            _ = try await client.unary(
                ledger.redeemCoupon,
                .init(code: "AMY-1", userId: "amy", orderId: "order-1", orderAmount: .init(value: 9_000, asset: "cash.cny")))
            Issue.record("a redemption below the threshold was accepted")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.details["result"] == "COUPON_RESULT_CODE_COUPON_THRESHOLD_NOT_MET")
            #expect(error.message.contains("1000 short"), "\(error.message)")
        }
        let redeemed = try await client.unary(
            ledger.redeemCoupon,
            .init(code: "AMY-1", userId: "amy", orderId: "order-2", orderAmount: .init(value: 12_000, asset: "cash.cny")))
        #expect(redeemed.discount?.value == 2_000 && redeemed.payable?.value == 10_000)
        #expect(redeemed.coupon?.state == .redeemed)
        #expect(server.stop() == 0)
        await client.close()

        server = try Self.start(directory)
        client = Self.client(server)
        #expect(try await client.unary(ledger.getCoupon, .init(code: "AMY-1")).coupon == redeemed.coupon)
        let refunded = try await client.unary(ledger.refundCoupon, .init(code: "AMY-1", orderId: "order-2", reason: "order returned"))
        #expect(refunded.coupon?.state == .available && refunded.coupon?.refunds == 1)
        _ = try await client.unary(ledger.issueCoupon, .init(couponId: "full100minus20", userId: "amy", code: "AMY-2"))
        server.kill()
        await client.close()

        server = try Self.start(directory)
        client = Self.client(server)
        let listed = try await client.unary(ledger.listUserCoupons, .init(userId: "amy", usableOnly: true))
        #expect(listed.coupons.map(\.code) == ["AMY-2", "AMY-1"])
        let balance = try await client.unary(ledger.getBalance, .init(userId: "amy", assets: ["coupon.full100minus20"]))
        #expect(balance.balances.first?.available == 2)
        let again = try await client.unary(ledger.refundCoupon, .init(code: "AMY-1", orderId: "order-2", reason: "order returned"))
        #expect(again.replayed)
        let audit = try await client.unary(ledger.audit, .init(verifyChain: true))
        #expect(audit.balanced && audit.chainVerified)
        server.stop()
        await client.close()
    }

    @Test("omit_applied answers over the wire list only failures and replays, numbered from first_sequence")
    func compactAnswers() async throws {
        let directory = try makeTemporaryDirectory("ledger-compact")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try Self.start(directory)
        let client = Self.client(server)
        _ = try await client.unary(Retain_V1_Ledger.openAccount, .init(accountId: "budget:c:points"))
        let batch: [Retain_V1_Transfer] = (0..<50).map { number in
            .init(
                transferId: "c\(number)", debitAccountId: number == 7 ? "user:nobody:points" : "budget:c:points",
                creditAccountId: "user:u\(number % 5):points", amount: 3, asset: "points", kind: .taskReward)
        }
        let first = try await client.unary(Retain_V1_Ledger.createTransfers, .init(transfers: batch, omitApplied: true))
        #expect(first.results.map(\.index) == [7] && first.results.first?.code == .insufficientFunds)
        #expect(first.applied == 49 && first.firstSequence == 1 && first.committedAtMs > 0)
        let retry = try await client.unary(Retain_V1_Ledger.createTransfers, .init(transfers: batch, omitApplied: true))
        #expect(retry.applied == 0 && retry.firstSequence == 0 && retry.results.count == 50)
        #expect(retry.results.filter(\.replayed).map(\.sequence) == Array(1...49))
        let full = try await client.unary(Retain_V1_Ledger.createTransfers, .init(transfers: batch))
        #expect(full.results.count == 50 && full.applied == 0)
        let audit = try await client.unary(Retain_V1_Ledger.audit, .init(verifyChain: true))
        #expect(audit.balanced && audit.chainVerified && audit.journalLength == 49)
        server.stop()
        await client.close()
    }

    @Test("recovery refuses to start when a logged transfer was altered, checksum and all")
    func tamperedJournal() async throws {
        let directory = try makeTemporaryDirectory("ledger-tamper")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try Self.start(directory)
        let client = Self.client(server)
        _ = try await client.unary(Retain_V1_Ledger.openAccount, .init(accountId: "budget:b:points"))
        for (id, amount) in [("first", Int64(10)), ("tamper-me", 77), ("last", 12)] {
            let answer = try await client.unary(
                Retain_V1_Ledger.createTransfers,
                .init(transfers: [
                    .init(
                        transferId: id, debitAccountId: "budget:b:points", creditAccountId: "user:eve:points", amount: amount,
                        asset: "points", kind: .issue)
                ]))
            #expect(answer.results.first?.code == .ok)
        }
        server.stop()
        await client.close()

        // Rewrite 77 as 78 inside the logged entry and fix the record's CRC32C, as someone
        // editing the journal by hand would.
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .first { $0.hasSuffix(".wal") })
        let path = directory.appendingPathComponent(segment)
        var bytes = [UInt8](try Data(contentsOf: path))
        var offset = 32
        var changed = false
        while offset + 16 <= bytes.count {
            let length = Int(
                UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                    | UInt32(bytes[offset + 3]) << 24)
            guard length > 0, offset + 16 + length <= bytes.count else { break }
            let payload = offset + 16
            let marker = Array("tamper-me".utf8)
            if let at = (payload..<(payload + length - marker.count)).first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }),
                let amount = (at..<(payload + length - 1)).first(where: { bytes[$0] == 0x20 && bytes[$0 + 1] == 77 })
            {
                bytes[amount + 1] = 78
                var crc = CRC32C()
                bytes.withUnsafeBytes { raw in
                    crc.update(UnsafeRawBufferPointer(rebasing: raw[payload..<(payload + length)]))
                    crc.update(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 4)]))
                    crc.update(UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + 16)]))
                }
                withUnsafeBytes(of: crc.value.littleEndian) { bytes.replaceSubrange((offset + 4)..<(offset + 8), with: $0) }
                changed = true
            }
            offset = payload + length
        }
        #expect(changed)
        try Data(bytes).write(to: path)
        do {
            let restarted = try Self.start(directory)
            restarted.stop()
            Issue.record("the ledger started on an altered journal")
        } catch let error as ServerProcessError {
            #expect("\(error)".contains("hash chain mismatch"))
        }
    }
}
