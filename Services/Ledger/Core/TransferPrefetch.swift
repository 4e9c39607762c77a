import CPrefetch
import RetainProto

/// What a batch's transfers will read, loaded a few transfers ahead of the one being checked and
/// applied. Each transfer reads memory scattered over the whole state: its id's slot in the
/// record index, its two accounts' slots in the account index, the two accounts, their ids'
/// bytes, the debited account's first free lot, the credited account's last lot and both
/// accounts' posting lists. One after the other, every one of those is a cache miss the core waits
/// for (at a million accounts and records most are); asked for ahead, their misses overlap.
///
/// Each stage needs what the one before loaded: the slots give the accounts' indexes, the
/// accounts give where their lists lie, the lists give the lots. So the stages run at falling
/// distances ahead of the transfer in hand. Nothing here decides anything: an index read to
/// prefetch is not confirmed against its key, and a wrong one only loads a line for nothing.
struct TransferPrefetch {
    /// Batches smaller than this are not worth the arrays.
    static let minimumBatch = 16
    /// How far ahead of the transfer in hand each stage runs.
    static let slotsAhead = 12
    static let accountsAhead = 8
    static let listsAhead = 4
    static let lotsAhead = 2

    private var idHashes: [UInt64]
    private var debitHashes: [UInt64]
    private var creditHashes: [UInt64]
    /// The accounts' indexes as the account index holds them (-1: none, or not looked up).
    private var debits: [Int32]
    private var credits: [Int32]
    /// How many transfers each stage has done.
    private var hashed = 0
    private var located = 0
    private var listed = 0
    private var lotted = 0

    init(count: Int) {
        idHashes = [UInt64](repeating: 0, count: count)
        debitHashes = idHashes
        creditHashes = idHashes
        debits = [Int32](repeating: -1, count: count)
        credits = debits
    }

    /// The transfer id's and the accounts' ``StringIndex/hash(_:)`` for transfer `index`, once
    /// the first stage has reached it.
    func hashes(_ index: Int) -> TransferHashes? {
        index < hashed ? TransferHashes(id: idHashes[index], debit: debitHashes[index], credit: creditHashes[index]) : nil
    }

    /// Runs every stage up to its distance ahead of transfer `position` of `transfers`.
    mutating func advance(to position: Int, of transfers: [Retain_V1_Transfer], in state: LedgerState) {
        let count = transfers.count
        while hashed < min(count, position + Self.slotsAhead) {
            let j = hashed
            idHashes[j] = StringIndex.hash(transfers[j].transferId)
            debitHashes[j] = StringIndex.hash(transfers[j].debitAccountId)
            creditHashes[j] = StringIndex.hash(transfers[j].creditAccountId)
            state.recordIndex.prefetch(hash: idHashes[j])
            state.accountIndex.prefetch(hash: debitHashes[j])
            state.accountIndex.prefetch(hash: creditHashes[j])
            hashed += 1
        }
        while located < min(hashed, position + Self.accountsAhead) {
            let j = located
            debits[j] = state.accountIndex.candidate(hash: debitHashes[j]) ?? -1
            credits[j] = state.accountIndex.candidate(hash: creditHashes[j]) ?? -1
            state.accounts.prefetch(debits[j])
            state.accounts.prefetch(credits[j])
            located += 1
        }
        while listed < min(located, position + Self.listsAhead) {
            let j = listed
            if let account = state.accounts.address(debits[j]) {
                let lots = RawAccount.lots(account)
                Self.prefetch(RawAccount.id(account))
                Self.prefetch(lots, offset: RawArray.elements + RawAccount.lotHead(account) * 4)
                Self.prefetch(RawAccount.postings(account), offset: RawArray.countOffset)
            }
            if let account = state.accounts.address(credits[j]) {
                Self.prefetch(RawAccount.id(account))
                Self.prefetch(RawAccount.lots(account), offset: RawArray.countOffset)
                Self.prefetch(RawAccount.postings(account), offset: RawArray.countOffset)
            }
            listed += 1
        }
        while lotted < min(listed, position + Self.lotsAhead) {
            let j = lotted
            if let account = state.accounts.address(debits[j]) {
                let lots = RawAccount.lots(account)
                let head = RawAccount.lotHead(account)
                if head < RawArray.count(lots) { state.lots.prefetch(RawArray.int32(lots, head)) }
                let postings = RawAccount.postings(account)
                Self.prefetch(postings, offset: RawArray.elements + RawArray.count(postings) * MemoryLayout<PostingRef>.stride)
            }
            if let account = state.accounts.address(credits[j]) {
                let lots = RawAccount.lots(account)
                let count = RawArray.count(lots)
                if count > 0 { state.lots.prefetch(RawArray.int32(lots, count - 1)) }
                Self.prefetch(lots, offset: RawArray.elements + count * 4)
                let postings = RawAccount.postings(account)
                Self.prefetch(postings, offset: RawArray.elements + RawArray.count(postings) * MemoryLayout<PostingRef>.stride)
            }
            lotted += 1
        }
    }

    @inline(__always)
    private static func prefetch(_ address: UInt, offset: Int = 0) {
        if let pointer = UnsafeRawPointer(bitPattern: address &+ UInt(bitPattern: offset)) { cprefetch_read(pointer) }
    }
}

/// An account's fields read as raw words where it lies, for the prefetch: reading them through
/// Swift would retain the arrays and the id string they refer to, and a retain writes the
/// object's reference count, the very cache line the prefetch is meant to bring in ahead.
private enum RawAccount {
    static let idOffset = MemoryLayout<LedgerAccount>.offset(of: \.id)!
    static let lotsOffset = MemoryLayout<LedgerAccount>.offset(of: \.lots)!
    static let lotHeadOffset = MemoryLayout<LedgerAccount>.offset(of: \.lotHead)!
    static let postingsOffset = MemoryLayout<LedgerAccount>.offset(of: \.postings)!

    /// Where the id's UTF-8 bytes lie when it is a native string too long to be stored inline:
    /// the second word of a `String` holds its storage object's address under 8 bits of flags,
    /// and the bytes follow the object's 32-byte header. For any other string the address means
    /// nothing, and a prefetch of it loads nothing useful and never faults.
    @inline(__always)
    static func id(_ account: UnsafeRawPointer) -> UInt {
        (account.load(fromByteOffset: idOffset + 8, as: UInt.self) & 0x00FF_FFFF_FFFF_FFFF) &+ 32
    }

    /// The address of the lots array's storage object.
    @inline(__always)
    static func lots(_ account: UnsafeRawPointer) -> UInt { account.load(fromByteOffset: lotsOffset, as: UInt.self) }

    @inline(__always)
    static func lotHead(_ account: UnsafeRawPointer) -> Int { account.load(fromByteOffset: lotHeadOffset, as: Int.self) }

    /// The address of the postings array's storage object.
    @inline(__always)
    static func postings(_ account: UnsafeRawPointer) -> UInt { account.load(fromByteOffset: postingsOffset, as: UInt.self) }
}

/// A Swift array's storage object as laid out on 64-bit platforms: a 16-byte object header,
/// the count, the capacity and flags, then the elements from byte 32 (the elements here are
/// 4 and 16 bytes: no further alignment).
private enum RawArray {
    static let countOffset = 16
    static let elements = 32

    @inline(__always)
    static func count(_ storage: UInt) -> Int {
        guard let pointer = UnsafeRawPointer(bitPattern: storage) else { return 0 }
        return pointer.load(fromByteOffset: countOffset, as: Int.self)
    }

    @inline(__always)
    static func int32(_ storage: UInt, _ index: Int) -> Int32 {
        UnsafeRawPointer(bitPattern: storage)!.load(fromByteOffset: elements + index * 4, as: Int32.self)
    }
}

/// A transfer's id and account ids hashed once, for the prefetch and for the lookups.
struct TransferHashes {
    let id: UInt64
    let debit: UInt64
    let credit: UInt64
}
