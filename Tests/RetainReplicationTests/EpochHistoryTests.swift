import Foundation
@testable import RetainReplication
import Testing

@Suite("Epoch history: where a replica's log stops agreeing with its leader's")
struct EpochHistoryTests {
    typealias Entry = EpochHistory.Entry

    @Test("a replica behind in the same epoch agrees through its last record")
    func behindSameEpoch() {
        let history = EpochHistory(entries: [Entry(epoch: 1, firstSequence: 1)])
        #expect(history.agreement(last: 40, leader: history, leaderLast: 100) == 40)
    }

    @Test("a deposed leader's tail from its own epoch is cut where the new epoch starts")
    func deposedLeaderTail() {
        // The old leader wrote 1...50 in epoch 1 and 51...60 in epoch 2, but the new leader (epoch 3)
        // had only received through 55 of epoch 2 when it took over at 56.
        let deposed = EpochHistory(entries: [Entry(epoch: 1, firstSequence: 1), Entry(epoch: 2, firstSequence: 51)])
        let leader = EpochHistory(entries: [
            Entry(epoch: 1, firstSequence: 1), Entry(epoch: 2, firstSequence: 51),
            Entry(epoch: 3, firstSequence: 56),
        ])
        #expect(deposed.agreement(last: 60, leader: leader, leaderLast: 80) == 55)
    }

    @Test("a replica that never heard of an epoch is cut at its start")
    func unknownEpoch() {
        // The replica's records 31... came from epoch 2's leader, which the shard abandoned: the
        // new leader (epoch 3) continued from 30 and never had them.
        let replica = EpochHistory(entries: [Entry(epoch: 1, firstSequence: 1), Entry(epoch: 2, firstSequence: 31)])
        let leader = EpochHistory(entries: [Entry(epoch: 1, firstSequence: 1), Entry(epoch: 3, firstSequence: 31)])
        #expect(replica.agreement(last: 45, leader: leader, leaderLast: 90) == 30)
    }

    @Test("records from before replication (epoch 0) agree with an empty history")
    func beforeReplication() {
        let leader = EpochHistory(entries: [Entry(epoch: 4, firstSequence: 11)])
        #expect(EpochHistory().agreement(last: 10, leader: leader, leaderLast: 20) == 10)
        #expect(EpochHistory().agreement(last: 15, leader: leader, leaderLast: 20) == 10)
    }

    @Test("begin replaces an epoch that wrote nothing, and is saved and loaded durably")
    func beginSaveLoad() throws {
        var history = EpochHistory()
        history.begin(epoch: 1, firstSequence: 1)
        history.begin(epoch: 2, firstSequence: 1)
        history.begin(epoch: 2, firstSequence: 9)
        history.begin(epoch: 3, firstSequence: 9)
        #expect(history.entries == [Entry(epoch: 2, firstSequence: 1), Entry(epoch: 3, firstSequence: 9)])
        #expect(history.epoch(at: 8) == 2 && history.epoch(at: 9) == 3 && history.latestEpoch == 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("epochs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try history.save(directory: directory)
        #expect(try EpochHistory.load(directory: directory) == history)
        try "2 1\nnot a line\n".write(toFile: directory + "/EPOCHS", atomically: true, encoding: .utf8)
        #expect(throws: ReplicationError.self) { try EpochHistory.load(directory: directory) }
    }
}
