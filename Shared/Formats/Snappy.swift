import CSnappy

/// Snappy block decompression (not the framed format), as Prometheus remote write sends bodies.
public enum Snappy {
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case corrupt
        case tooLarge(declared: Int, limit: Int)

        public var description: String {
            switch self {
            case .corrupt: "the body is not snappy block-compressed data"
            case .tooLarge(let declared, let limit): "the body inflates to \(declared) bytes, past \(limit) (SLUICE_INGEST_MAX_BODY_BYTES)"
            }
        }
    }

    /// The inflated bytes, refused before any allocation when the stream declares more than `limit`.
    public static func decompress(_ compressed: [UInt8], limit: Int) throws(Problem) -> [UInt8] {
        var length = 0
        let declared = compressed.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                snappy_uncompressed_length(chars.baseAddress, chars.count, &length)
            }
        }
        guard declared == SNAPPY_OK else { throw .corrupt }
        guard length <= limit else { throw .tooLarge(declared: length, limit: limit) }
        var output = [UInt8](repeating: 0, count: length)
        var written = length
        let status = compressed.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                output.withUnsafeMutableBufferPointer { out in
                    out.withMemoryRebound(to: CChar.self) { outChars in
                        snappy_uncompress(chars.baseAddress, chars.count, outChars.baseAddress, &written)
                    }
                }
            }
        }
        guard status == SNAPPY_OK, written == length else { throw .corrupt }
        return output
    }

    /// Compresses, for tests and tools that play the agent.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var length = snappy_max_compressed_length(bytes.count)
        var output = [UInt8](repeating: 0, count: length)
        let status = bytes.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { chars in
                output.withUnsafeMutableBufferPointer { out in
                    out.withMemoryRebound(to: CChar.self) { outChars in
                        snappy_compress(chars.baseAddress, chars.count, outChars.baseAddress, &length)
                    }
                }
            }
        }
        precondition(status == SNAPPY_OK, "snappy_compress failed with a buffer of snappy_max_compressed_length")
        return Array(output.prefix(length))
    }
}
