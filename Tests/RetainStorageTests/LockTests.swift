import Glibc
import RetainStorage
import Testing

@Suite("Directory lock")
struct LockTests {
    @Test("a second opener is refused with the directory and the holder's pid, until the first closes")
    func secondOpenerRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let first = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
        let error = storageError(
            #expect(throws: StorageError.self) {
                _ = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
            })
        #expect(error == .locked(directory: scratch.data, holderPID: getpid()))
        #expect(error?.description.contains(scratch.data) == true)
        #expect(error?.description.contains("\(getpid())") == true)
        #expect(throws: StorageError.self) { _ = try StorageInspector.repair(directory: scratch.data, logger: testLogger()) }
        #expect(try StorageInspector.inspect(directory: scratch.data).lockHolder == getpid())
        first.close()
        let second = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
        second.close()
        #expect(try StorageInspector.inspect(directory: scratch.data).lockHolder == nil)
    }

    @Test("deleting the LOCK file lets no second writer in: the directory itself is locked")
    func deletedLockFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let first = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
        #expect(unlink(scratch.data + "/LOCK") == 0)
        let error = storageError(
            #expect(throws: StorageError.self) {
                _ = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
            })
        // Named from the kernel's lock table, though the file with the pid is gone.
        #expect(error == .locked(directory: scratch.data, holderPID: getpid()))
        #expect(try StorageInspector.inspect(directory: scratch.data).lockHolder == getpid())
        first.close()
        let second = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
        second.close()
    }
}
