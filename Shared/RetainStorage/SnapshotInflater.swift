import Glibc

/// Decompresses a snapshot's content on a thread of its own, a few blocks ahead of the reader,
/// so that decompression overlaps the decoding of the records it produced (recovery of a large
/// state on two cores: the service rebuilds its state while the next megabytes are inflated).
///
/// The thread reads the content (after the header) with `pread`, streams it through one
/// `ZSTD_DCtx` into blocks of ``blockBytes`` of the decompressed record stream, and queues them
/// in order; at most ``blockCount`` blocks exist, so memory stays bounded whatever the snapshot's
/// size. The reader takes blocks with ``take()`` and gives each back with ``recycle(_:)`` once it
/// no longer points into it. A damaged frame ends the queue with the error, after every block
/// decoded before it. ``stop()`` (also run by `deinit`) ends the thread early.
final class SnapshotInflater: @unchecked Sendable {
    /// Bytes of the decompressed stream per block. 1 MiB.
    static let blockBytes = 1 << 20
    /// Blocks in flight: filled, being filled, or being read. 4.
    static let blockCount = 4
    /// Compressed bytes read from the file at a time. 1 MiB.
    static let inputBytes = 1 << 20

    /// A piece of the decompressed stream.
    struct Block {
        /// The block's memory (``blockBytes``).
        let memory: UnsafeMutableRawBufferPointer
        /// Bytes of the stream in it.
        var count: Int
        /// File offset where the frame that was being decoded when the block began starts.
        var frameStart: Int64
    }

    /// What the reader takes next.
    enum Item {
        case block(Block)
        /// The content is exhausted; every frame was complete.
        case end
        case failure(StorageError)
    }

    private let path: String
    private let file: PosixFile
    private let fileSize: Int64
    private let decompressor: ZstdDecompressor
    private let input: UnsafeMutableRawBufferPointer
    private var inputFilled = 0
    private var inputPosition = 0
    /// File offset of `input[0]`.
    private var inputOffset = Int64(SnapshotHeader.size)
    /// File offset where the frame being decoded starts.
    private var frameStart = Int64(SnapshotHeader.size)
    private var frameOpen = false

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: UnsafeMutablePointer<pthread_cond_t>
    /// Guarded by `mutex`: filled blocks (then the end or a failure), oldest first.
    private var queue: [Item] = []
    /// Guarded by `mutex`: blocks free to fill.
    private var free: [UnsafeMutableRawBufferPointer] = []
    /// Guarded by `mutex`.
    private var stopped = false
    private var thread: CommitterThread?
    private var allBlocks: [UnsafeMutableRawBufferPointer] = []

    /// Prepares to inflate the content of `file` (`fileSize` bytes in all, header included).
    init(path: String, file: PosixFile, fileSize: Int64) throws(StorageError) {
        self.path = path
        self.file = file
        self.fileSize = fileSize
        self.decompressor = try ZstdDecompressor()
        self.input = .allocate(byteCount: Self.inputBytes, alignment: 16)
        mutex = .allocate(capacity: 1)
        changed = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        stop()
        for block in allBlocks { block.deallocate() }
        input.deallocate()
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Starts the thread. Call once, after ``locateDamage()`` if at all.
    func start() throws(StorageError) {
        for _ in 0..<Self.blockCount {
            allBlocks.append(.allocate(byteCount: Self.blockBytes, alignment: 16))
        }
        free = allBlocks
        thread = try CommitterThread { [self] in run() }
    }

    /// Ends the thread (it stops at its next block) and waits for it.
    func stop() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
        thread?.join()
        thread = nil
    }

    /// The next item, waiting for the thread to produce it.
    func take() -> Item {
        pthread_mutex_lock(mutex)
        while queue.isEmpty { pthread_cond_wait(changed, mutex) }
        let item = queue.removeFirst()
        pthread_mutex_unlock(mutex)
        return item
    }

    /// Gives a block back to be filled again.
    func recycle(_ block: Block) {
        pthread_mutex_lock(mutex)
        free.append(block.memory)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    // MARK: The thread

    private func run() {
        do throws(StorageError) {
            while let memory = nextFree() {
                var block = Block(memory: memory, count: 0, frameStart: frameStart)
                var ended = false
                while block.count < memory.count {
                    let produced = try decompressMore(into: UnsafeMutableRawBufferPointer(rebasing: memory[block.count...]))
                    if produced == 0 {
                        ended = true
                        break
                    }
                    block.count += produced
                }
                if block.count > 0 { push(.block(block)) } else { recycle(block) }
                if ended {
                    push(.end)
                    return
                }
            }
        } catch {
            push(.failure(error))
        }
    }

    /// A free block, or nil once stopped.
    private func nextFree() -> UnsafeMutableRawBufferPointer? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while free.isEmpty, !stopped { pthread_cond_wait(changed, mutex) }
        return stopped ? nil : free.removeLast()
    }

    private func push(_ item: Item) {
        pthread_mutex_lock(mutex)
        queue.append(item)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    // MARK: Decompression (the thread's, or the caller's before ``start()``)

    /// Decompresses into `target`; returns the bytes produced, 0 once the content is exhausted.
    private func decompressMore(into target: UnsafeMutableRawBufferPointer) throws(StorageError) -> Int {
        while true {
            if inputPosition == inputFilled {
                inputOffset += Int64(inputFilled)
                inputPosition = 0
                inputFilled = 0
                let left = fileSize - inputOffset
                if left <= 0 {
                    if frameOpen {
                        throw .corrupt(file: path, offset: frameStart, reason: "the last zstd frame is incomplete")
                    }
                    return 0
                }
                let chunk = UnsafeMutableRawBufferPointer(rebasing: input[0..<Int(min(Int64(input.count), left))])
                inputFilled = try file.read(into: chunk, at: inputOffset)
                if inputFilled == 0 {
                    throw .corrupt(file: path, offset: inputOffset, reason: "file shrank while being read")
                }
            }
            let source = UnsafeRawBufferPointer(rebasing: input[inputPosition..<inputFilled])
            let progress: ZstdDecompressor.Progress
            do throws(ZstdDecompressor.ZstdFailure) {
                progress = try decompressor.decompress(source, into: target)
            } catch {
                throw .corrupt(file: path, offset: frameStart, reason: "zstd frame cannot be decoded: \(error.message)")
            }
            if progress.consumed > 0 || progress.produced > 0 { frameOpen = true }
            inputPosition += progress.consumed
            if progress.frameEnded {
                frameOpen = false
                frameStart = inputOffset + Int64(inputPosition)
            }
            if progress.produced > 0 { return progress.produced }
        }
    }

    /// Decodes the whole content without keeping it, to find the frame the damage is in. Call
    /// before ``start()`` only.
    func locateDamage() -> (offset: Int64, reason: String)? {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.blockBytes, alignment: 16)
        defer { scratch.deallocate() }
        do throws(StorageError) {
            while try decompressMore(into: scratch) > 0 {}
        } catch {
            if case .corrupt(_, let offset, let reason) = error { return (offset, reason) }
            return nil
        }
        return nil
    }
}
