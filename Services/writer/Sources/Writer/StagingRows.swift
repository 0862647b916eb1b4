import NIOCore
import PostgresNIO
import SluiceModel

/// Encodes measurements as PostgreSQL `COPY … FROM STDIN` text rows: seq, domain, tag, ts, vals.
enum StagingRows {
    /// Bytes per `write` call: large enough to amortise the round trip, small enough to stream.
    static let chunkBytes = 256 * 1024

    static func write(_ measurements: [Measurement], to writer: PostgresCopyFromWriter) async throws {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(chunkBytes + 4096)
        for (seq, measurement) in measurements.enumerated() {
            append(measurement, seq: seq, to: &buffer)
            if buffer.readableBytes >= chunkBytes {
                try await writer.write(buffer)
                buffer.clear()
            }
        }
        if buffer.readableBytes > 0 { try await writer.write(buffer) }
    }

    static func append(_ measurement: Measurement, seq: Int, to buffer: inout ByteBuffer) {
        buffer.writeString(String(seq))
        buffer.writeInteger(UInt8(ascii: "\t"))
        appendEscaped(measurement.domain, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "\t"))
        appendEscaped(measurement.tag, to: &buffer)
        buffer.writeInteger(UInt8(ascii: "\t"))
        buffer.writeString(String(measurement.time))
        buffer.writeStaticString("\t{")
        for (index, value) in measurement.values.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeString(value.description)  // shortest text that reads back to the same double
        }
        buffer.writeStaticString("}\n")
    }

    /// COPY text format treats backslash, tab, newline and carriage return specially; escape them.
    /// Inside an array literal the tag never appears, so no array quoting is needed.
    static func appendEscaped(_ text: String, to buffer: inout ByteBuffer) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }
}
