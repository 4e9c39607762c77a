import NIOCore
import RetainAuth
import RetainProto
@testable import RetainRPC
import Synchronization
import RetainWire
import Testing
import RetainClock

/// The server connection's collaborators, each alone: live calls, admission, the answer batch.
@Suite("Server connection parts")
struct ConnectionPartsTests {
    /// Accepts "good" (scopes: admin) and counts verifications; refuses anything else.
    final class Authenticator: CallAuthenticator {
        let verifications = Atomic<Int>(0)
        func authenticate(_ authorization: String) throws(RPCError) -> Caller {
            verifications.add(1, ordering: .relaxed)
            guard authorization == "good" else { throw RPCError(.unauthenticated, "bad credential") }
            return Caller(id: "c", issuer: "test", scopes: .admin, expiresAtMs: WallClock.nowMs() + 60_000)
        }
    }

    @Test("live calls: a limit, generations that tell a reused id apart, cancel handlers of ended calls run at once")
    func liveCalls() {
        var calls = LiveCalls(maximum: 2)
        let metrics = MethodMetrics(path: "retain.v1.Echo/Sleep")
        let first = calls.start(1, metrics: metrics, started: .now())!
        _ = calls.start(2, metrics: metrics, started: .now())
        let overLimit = calls.start(3, metrics: metrics, started: .now())
        #expect(overLimit == nil)
        let removed = calls.remove(1)
        #expect(removed != nil)
        let reused = calls.start(1, metrics: metrics, started: .now())!
        #expect(reused != first)
        #expect(!calls.isLive(1, generation: first))
        let staleEnd = calls.end(1, generation: first)
        #expect(staleEnd == nil)
        let staleSet = calls.setCancelHandler(1, generation: first, {})
        let liveSet = calls.setCancelHandler(1, generation: reused, {})
        #expect(!staleSet && liveSet)
        let ended = calls.end(1, generation: reused)
        #expect(ended != nil)
        #expect(calls.count == 1 && !calls.isFlowControlled(2))
        _ = calls.start(4, metrics: metrics, started: .now(), window: 1024)
        #expect(calls.isFlowControlled(4))
    }

    @Test("admission: a valid credential admits and is remembered; scopes and open methods are checked as documented")
    func admission() throws {
        let authenticator = Authenticator()
        var admission = CallAdmission(authenticator: authenticator)
        #expect(!admission.isAdmitted)
        // An open method without a credential is served but does not admit.
        let probe = try admission.check(credential: nil, access: .open, method: "retain.v1.Health/Check")
        #expect(probe == nil)
        #expect(!admission.isAdmitted)
        #expect(throws: RPCError.self) { try admission.check(credential: "bad", access: .authenticated, method: "m") }
        #expect(!admission.isAdmitted)
        let caller = try admission.check(credential: "good", access: .authenticated, method: "m")
        #expect(caller?.id == "c" && admission.isAdmitted)
        #expect(admission.verifiedCredential == Array("good".utf8))
        // The same credential again (nil: the header repeats the verified one) is not verified again.
        let before = authenticator.verifications.load(ordering: .relaxed)
        let again = try admission.check(credential: nil, access: .authenticated, method: "m")
        let after = authenticator.verifications.load(ordering: .relaxed)
        #expect(again?.id == "c" && after == before)
        // Without an authenticator everything is admitted and nothing checked.
        var open = CallAdmission(authenticator: nil)
        #expect(open.isAdmitted)
        let unchecked = try open.check(credential: "bad", access: .authenticated, method: "m")
        #expect(unchecked == nil)
        let admitted = open.admit(callHeader: ByteBuffer())
        #expect(admitted)
    }

    @Test("answer batch: flushes at the end of a read burst, else once per event loop tick; full at the unsent limit")
    func answerBatch() {
        var batch = AnswerBatch(maximumUnsentBytes: 8)
        let first = batch.wrote(), second = batch.wrote()
        #expect(first && !second, "one flush scheduled per tick")
        batch.scheduledFlushRan()
        batch.beginRead()
        let duringRead = batch.wrote()
        let atEnd = batch.endRead(), atNextEnd = batch.endRead()
        #expect(!duringRead && atEnd && !atNextEnd)
        batch.pending = ByteBuffer(repeating: 0, count: 8)
        #expect(batch.isFull)
        let taken = batch.take(), again = batch.take()
        #expect(taken?.readableBytes == 8 && again == nil && !batch.isFull)
    }
}
