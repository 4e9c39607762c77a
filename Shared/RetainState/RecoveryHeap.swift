import CMalloc

/// The C heap while a state is rebuilt. A restore allocates hundreds of megabytes in small
/// blocks from a thread other than the process's first, whose glibc arena grows its heap by
/// `mprotect` a few pages at a time: about 68,000 calls and 0.2-0.3 s of CPU for Growth at a
/// million users. With a 64 MiB top pad each new arena heap is made usable whole at once
/// (untouched pages cost no memory). After the rebuild the pad goes back to glibc's default
/// and the heaps' free memory (sort buffers, decoded runs) is given back. Setting the pad turns
/// off glibc's dynamic mmap threshold for the rest of the process (mallopt(3)): blocks of
/// 128 KiB and more are then always mapped on their own.
enum RecoveryHeap {
    /// glibc's default top pad (`DEFAULT_TOP_PAD`). 128 KiB.
    static let defaultTopPad: Int32 = 128 << 10
    /// The top pad during a rebuild: glibc's largest arena heap. 64 MiB.
    static let recoveryTopPad: Int32 = 64 << 20

    /// Runs `body` (a rebuild) with the large top pad, then trims the heaps.
    static func rebuilding<Result>(_ body: () throws -> Result) rethrows -> Result {
        _ = cmalloc_set_top_pad(recoveryTopPad)
        defer {
            _ = cmalloc_set_top_pad(defaultTopPad)
            _ = cmalloc_trim()
        }
        return try body()
    }
}
