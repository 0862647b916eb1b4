import NIOCore

/// Reads PostgreSQL's binary array format (`array_send`) straight from a column's bytes.
///
/// PostgresNIO's generic array decoding costs microseconds per array; an `/api` aggregate over a day of
/// minute rows decodes eleven thousand of them, and that decoding was most of its time.
public enum BinaryArray {
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// A one-dimensional `float8[]` without nulls.
    public static func doubles(_ bytes: ByteBuffer) throws -> [Double] {
        var buffer = bytes
        return try doubles(from: &buffer)
    }

    /// A one-dimensional `int4[]` without nulls.
    public static func int32s(_ bytes: ByteBuffer) throws -> [Int32] {
        var buffer = bytes
        return try int32s(from: &buffer)
    }

    /// Reads a `float8[]` off the front of `buffer` (arrays concatenated by `array_send(…) || …`).
    public static func doubles(from buffer: inout ByteBuffer) throws -> [Double] {
        try elements(from: &buffer, width: 8) { $0.readInteger(as: UInt64.self).map(Double.init(bitPattern:)) }
    }

    /// Reads an `int4[]` off the front of `buffer`.
    public static func int32s(from buffer: inout ByteBuffer) throws -> [Int32] {
        try elements(from: &buffer, width: 4) { $0.readInteger(as: Int32.self) }
    }

    /// Reads an `int8send` value off the front of `buffer`.
    public static func int64(from buffer: inout ByteBuffer) throws -> Int64 {
        guard let value = buffer.readInteger(as: Int64.self) else { throw Malformed(description: "an int8 is truncated") }
        return value
    }

    /// Header: dimensions, has-nulls flag, element type; per dimension its length and lower bound; then
    /// each element as its byte length (-1 for null) and its bytes, all big-endian.
    @inline(__always)
    private static func elements<Element>(from buffer: inout ByteBuffer, width: Int32, _ read: (inout ByteBuffer) -> Element?) throws -> [Element] {
        guard let dimensions = buffer.readInteger(as: Int32.self), buffer.readInteger(as: Int32.self) != nil,
            buffer.readInteger(as: UInt32.self) != nil
        else { throw Malformed(description: "array header is truncated") }
        if dimensions == 0 { return [] }
        guard dimensions == 1, let count = buffer.readInteger(as: Int32.self), count >= 0, buffer.readInteger(as: Int32.self) != nil else {
            throw Malformed(description: "not a one-dimensional array")
        }
        var values: [Element] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard buffer.readInteger(as: Int32.self) == width, let value = read(&buffer) else {
                throw Malformed(description: "an element is null or not \(width) bytes")
            }
            values.append(value)
        }
        return values
    }
}
