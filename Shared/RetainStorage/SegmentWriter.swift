import Glibc

/// Appends framed records to the newest log segment and rolls over to a new one by size.
///
/// The segment is zero-filled ahead of its records, a mebibyte at a time
/// (``preallocationBytes``), and records are written over the zeros: the `fdatasync` of a batch
/// then writes its data alone, without the file's size and block map that an append changes
/// (about half the sync's time on ext4). Readers take an all-zero frame header followed by
/// nothing but zeros as the end of the log (``LogSegmentReader``). A zero-fill that fails (a
/// full disk) leaves the segment as it was and the writer appends as before.
///
/// Confined to the committer thread once the store is running (created during recovery, then
/// handed over), hence `@unchecked Sendable`.
package final class SegmentWriter: @unchecked Sendable {
    private let directory: DataDirectory
    private let segmentBytes: Int
    private let faults: FaultInjection?
    private var file: PosixFile
    /// Bytes in the current segment.
    private(set) var size: Int64
    /// First sequence of the current segment.
    private(set) var firstSequence: UInt64
    /// Whether bytes were written since the last sync.
    private(set) var hasUnsyncedWrites = false
    /// Bytes of the current segment whose records were acknowledged (durable per the mode).
    /// After a failed write or sync the segment is cut back to it, so that what the disk holds
    /// is exactly what callers were told.
    private(set) var acknowledgedSize: Int64
    /// Where the zero-filled part of the current segment ends (the file's size).
    private(set) var preallocatedEnd: Int64
    /// Whether segments are zero-filled ahead (``StorageConfiguration/zeroFillSegments``).
    private let zeroFill: Bool
    /// Whether the current segment is still zero-filled ahead (a failed fill stops it).
    private var preallocating: Bool

    /// How far ahead of its records a segment is zero-filled at a time (1 MiB).
    static let preallocationBytes: Int64 = 1 << 20

    private init(
        directory: DataDirectory, file: PosixFile, firstSequence: UInt64, size: Int64, fileSize: Int64, segmentBytes: Int,
        zeroFill: Bool, faults: FaultInjection?
    ) {
        self.zeroFill = zeroFill
        self.preallocating = zeroFill
        self.directory = directory
        self.file = file
        self.firstSequence = firstSequence
        self.size = size
        self.acknowledgedSize = size
        self.preallocatedEnd = max(fileSize, size)
        self.segmentBytes = segmentBytes
        self.faults = faults
    }

    /// Continues the existing segment `path`, whose valid records end at `size`.
    package static func continuing(
        directory: DataDirectory, path: String, firstSequence: UInt64, size: Int64, segmentBytes: Int,
        zeroFill: Bool = true, faults: FaultInjection?
    ) throws(StorageError) -> SegmentWriter {
        let file = try PosixFile(path: path, flags: O_WRONLY, faults: faults)
        return SegmentWriter(
            directory: directory, file: file, firstSequence: firstSequence, size: size, fileSize: try file.size(),
            segmentBytes: segmentBytes, zeroFill: zeroFill, faults: faults)
    }

    /// Creates a new, empty segment whose first record will be `firstSequence`.
    package static func creating(
        directory: DataDirectory, firstSequence: UInt64, segmentBytes: Int, zeroFill: Bool = true,
        faults: FaultInjection?
    ) throws(StorageError) -> SegmentWriter {
        let file = try createSegment(directory: directory, firstSequence: firstSequence, faults: faults)
        return SegmentWriter(
            directory: directory, file: file, firstSequence: firstSequence, size: Int64(LogSegmentHeader.size),
            fileSize: Int64(LogSegmentHeader.size), segmentBytes: segmentBytes, zeroFill: zeroFill, faults: faults)
    }

    /// Writes the header under a temporary name, syncs it, renames it into place and syncs the
    /// directory, so a `log-*.wal` file never has a partial header.
    private static func createSegment(
        directory: DataDirectory, firstSequence: UInt64, faults: FaultInjection?
    ) throws(StorageError) -> PosixFile {
        let name = DataDirectory.segmentName(firstSequence: firstSequence)
        let temporary = directory.file(DataDirectory.temporaryName(for: name))
        let file = try PosixFile(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, faults: faults)
        try LogSegmentHeader(firstSequence: firstSequence).encoded().withBytes { (bytes) throws(StorageError) in
            try file.writeAll(bytes)
        }
        try file.syncData()
        do {
            try faults?.check(.segmentBeforeRename)
        } catch {
            throw .io(operation: "simulated crash before rename", file: temporary, errno: EIO)
        }
        try directory.rename(temporary, to: name)
        try directory.sync()
        return try PosixFile(path: directory.file(name), flags: O_WRONLY, faults: faults)
    }

    /// Writes `batch` (whole framed records, the first with `batchFirstSequence`), first rolling
    /// over to a new segment if the current one has reached the segment size.
    package func write(_ batch: UnsafeRawBufferPointer, batchFirstSequence: UInt64) throws(StorageError) {
        if size >= Int64(segmentBytes), size > Int64(LogSegmentHeader.size) {
            try roll(to: batchFirstSequence)
        }
        let end = size + Int64(batch.count)
        if preallocating, end > preallocatedEnd { preallocate(through: end) }
        try file.writeAll(batch, at: size)
        size = end
        preallocatedEnd = max(preallocatedEnd, end)
        hasUnsyncedWrites = true
    }

    /// Zero-fills the segment from its preallocated end to a mebibyte past `end` (within the
    /// segment size; nothing when `end` is already past it). The batch's sync makes the zeros
    /// and the new size durable with it. On failure the fill is cut off again and the segment
    /// is no longer preallocated: the records are appended as they would be without it.
    private func preallocate(through end: Int64) {
        let target = min(end + Self.preallocationBytes, Int64(segmentBytes))
        guard target > end else { return }
        // The batch itself is written up to `end`; zeros go after it.
        let start = max(preallocatedEnd, end)
        do throws(StorageError) {
            try file.writeZeros(at: start, count: Int(target - start))
            preallocatedEnd = target
        } catch {
            preallocating = false
            try? file.truncate(to: preallocatedEnd)
        }
    }

    /// `fdatasync`s the current segment if anything was written since the last sync.
    package func sync() throws(StorageError) {
        guard hasUnsyncedWrites else { return }
        try file.syncData()
        hasUnsyncedWrites = false
    }

    /// Records that every byte written so far was acknowledged to its callers.
    package func markAcknowledged() {
        acknowledgedSize = size
    }

    /// Cuts the current segment back to its acknowledged bytes (dropping records whose write or
    /// sync failed) and syncs it. Throws when even that fails: the caller must then stop the
    /// process rather than let memory and disk disagree.
    package func discardUnacknowledged() throws(StorageError) {
        // A short write leaves bytes that `size` does not count: ask the file, not the counter
        // (a preallocated segment is cut back to its acknowledged records too).
        guard try file.size() != acknowledgedSize || size != acknowledgedSize else { return }
        try file.truncate(to: acknowledgedSize)
        try file.syncData()
        size = acknowledgedSize
        preallocatedEnd = acknowledgedSize
        hasUnsyncedWrites = false
    }

    /// Closes the current segment.
    package func close() {
        file.close()
    }

    private func roll(to nextSequence: UInt64) throws(StorageError) {
        // A finished segment ends after its last record, as it did before zero-filling (a zero
        // tail would still read as its end; this keeps the segments tidy and readable by older
        // versions, which take only the last segment's zeros for a torn append).
        if preallocatedEnd > size, (try? file.truncate(to: size)) != nil {
            preallocatedEnd = size
            hasUnsyncedWrites = true
        }
        try sync()
        let next = try Self.createSegment(directory: directory, firstSequence: nextSequence, faults: faults)
        file.close()
        file = next
        firstSequence = nextSequence
        size = Int64(LogSegmentHeader.size)
        acknowledgedSize = size
        preallocatedEnd = size
        preallocating = zeroFill
    }
}
