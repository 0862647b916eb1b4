import NIOCore
import SluiceModel
import SluiceStorage

/// Which version of a row PostgreSQL holds: `xmin` (the transaction that wrote it) and `ctid` (where it
/// lies). Whatever rewrites a row writes a new version with its own transaction's id, and a deleted row
/// has none, so a cached copy is current exactly while its row is listed at the version it was read at
/// (`TierStateCache`, `RawMinuteCache`).
struct RowVersion: Hashable, Sendable {
    var transaction: Int64
    var block: UInt32
    var item: UInt16

    /// The version as bytes: `xmin` widened to 8 bytes, then `ctid` (4-byte block, 2-byte item).
    static let packed = "int8send(xmin::text::int8) || tidsend(ctid)"
    /// Bytes `packed` makes.
    static let packedSize = 8 + 4 + 2

    static func read(from buffer: inout ByteBuffer) throws -> RowVersion {
        guard let transaction = buffer.readInteger(as: Int64.self), let block = buffer.readInteger(as: UInt32.self),
            let item = buffer.readInteger(as: UInt16.self)
        else { throw BinaryArray.Malformed(description: "a row version is truncated") }
        return RowVersion(transaction: transaction, block: block, item: item)
    }
}

/// A row as a version listing names it: its key (a tier row's bucket, a raw row's time) and version.
struct RowListing: Equatable, Sendable {
    var key: Int64
    var version: RowVersion

    /// The aggregate that packs a listing, over a subquery of `key, xmin, ctid` in key order: what
    /// `unpack` reads.
    static let packed = "string_agg(int8send(key) || \(RowVersion.packed), ''::bytea)"

    /// Keys and versions packed as `packed` makes them, one after another (nil: no rows),
    /// in key order. Packed in a sorted subquery's order, as PostgreSQL aggregates, though SQL does not
    /// promise it (`string_agg(… order by …)` sorts again: a third of a listing's time), so checked here.
    static func unpack(_ pack: ByteBuffer?) throws -> [RowListing] {
        guard var buffer = pack else { return [] }
        var listed: [RowListing] = []
        listed.reserveCapacity(buffer.readableBytes / (8 + RowVersion.packedSize))
        while buffer.readableBytes > 0 {
            listed.append(RowListing(key: try BinaryArray.int64(from: &buffer), version: try RowVersion.read(from: &buffer)))
        }
        if !listed.isSorted(by: { $0.key < $1.key }) { listed.sort { $0.key < $1.key } }
        return listed
    }
}

/// A block of a series' points — a tier row, or a raw minute folded — behind a reference, so handing a
/// kept one to a request costs one retain rather than one per array of its state.
final class StateBlock: Sendable {
    /// The start of the tier bucket (or minute) it covers.
    let start: Int64
    let state: BucketState

    init(start: Int64, state: BucketState) {
        self.start = start
        self.state = state
    }
}
