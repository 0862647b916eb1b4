import NIOCore

/// Cuts a TCP byte stream into lines (`\n`, an optional `\r` before it dropped), however the reads split
/// them. A line longer than `maxLineBytes` is not kept whole: it is reported once as too long and the
/// rest of it skipped, so one endless line cannot hold memory.
struct LineSplitter {
    enum Piece: Equatable {
        case line([UInt8])
        case tooLong
    }

    let maxLineBytes: Int
    private var partial: [UInt8] = []
    private var skipping = false

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// The lines completed by `chunk`, in order.
    mutating func feed(_ chunk: ByteBuffer) -> [Piece] {
        var pieces: [Piece] = []
        chunk.withUnsafeReadableBytes { bytes in
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
                let end = newline ?? bytes.endIndex
                if !skipping {
                    if partial.count + (end - start) > maxLineBytes {
                        pieces.append(.tooLong)
                        partial.removeAll(keepingCapacity: true)
                        skipping = true
                    } else {
                        partial.append(contentsOf: bytes[start..<end])
                    }
                }
                guard let newline else { break }
                if !skipping { pieces.append(.line(Self.trimmed(partial))) }
                partial.removeAll(keepingCapacity: true)
                skipping = false
                start = newline + 1
            }
        }
        return pieces
    }

    /// What is left when the stream ends: a last line without its newline.
    mutating func finish() -> [Piece] {
        defer {
            partial = []
            skipping = false
        }
        return skipping || partial.isEmpty ? [] : [.line(Self.trimmed(partial))]
    }

    private static func trimmed(_ line: [UInt8]) -> [UInt8] {
        line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : line
    }
}
