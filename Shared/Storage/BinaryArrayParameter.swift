import NIOCore
import PostgresNIO

/// A one-dimensional array without nulls, bound as a query parameter in PostgreSQL's binary array
/// format (`array_recv`) and written in one pass over its elements.
///
/// PostgresNIO encodes a Swift array element by element through each element's dynamic encoding (a
/// generic metadata lookup and several checked buffer writes per element): for the writer's batches,
/// about a hundred thousand values each, that was a fifth of the writer's CPU (BENCHMARKS.md). The
/// bytes are the same as PostgresNIO's (`BinaryArrayParameterTests`).
public struct BinaryArrayParameter: PostgresDynamicTypeEncodable {
    private enum Elements {
        case float8([Double])
        case int8([Int64])
        case int4([Int32])
        case text([String])
    }

    private let elements: Elements

    public static func float8(_ values: [Double]) -> BinaryArrayParameter { BinaryArrayParameter(elements: .float8(values)) }
    public static func int8(_ values: [Int64]) -> BinaryArrayParameter { BinaryArrayParameter(elements: .int8(values)) }
    public static func int4(_ values: [Int32]) -> BinaryArrayParameter { BinaryArrayParameter(elements: .int4(values)) }
    public static func text(_ values: [String]) -> BinaryArrayParameter { BinaryArrayParameter(elements: .text(values)) }

    public var psqlType: PostgresDataType {
        switch elements {
        case .float8: .float8Array
        case .int8: .int8Array
        case .int4: .int4Array
        case .text: .textArray
        }
    }

    public var psqlFormat: PostgresFormat { .binary }

    public func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        switch elements {
        case .float8(let values): Self.write(values, of: .float8, into: &buffer) { $0.bitPattern }
        case .int8(let values): Self.write(values, of: .int8, into: &buffer) { $0 }
        case .int4(let values): Self.write(values, of: .int4, into: &buffer) { $0 }
        case .text(let values): Self.write(values, into: &buffer)
        }
    }

    /// Dimensions (none when empty), the has-nulls flag and the element type; then the one dimension's
    /// length and lower bound (1). All big-endian, as every length and element that follows.
    private static func writeHeader(count: Int, of type: PostgresDataType, into buffer: inout ByteBuffer) {
        precondition(count <= Int32.max, "an array parameter holds at most Int32.max elements")
        buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)
        buffer.writeInteger(0, as: Int32.self)
        buffer.writeInteger(type.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(1, as: Int32.self)
    }

    /// Fixed-width elements: each its width and its bits, stored straight into the buffer's spare room.
    @inline(__always)
    private static func write<Element, Bits: FixedWidthInteger>(
        _ elements: [Element], of type: PostgresDataType, into buffer: inout ByteBuffer, _ bits: (Element) -> Bits
    ) {
        writeHeader(count: elements.count, of: type, into: &buffer)
        let width = MemoryLayout<Bits>.size
        let stride = 4 + width
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: elements.count * stride) { room in
            var offset = 0
            for element in elements {
                room.storeBytes(of: UInt32(width).bigEndian, toByteOffset: offset, as: UInt32.self)
                room.storeBytes(of: bits(element).bigEndian, toByteOffset: offset + 4, as: Bits.self)
                offset += stride
            }
            return offset
        }
    }

    /// Text elements: each its UTF-8 length and bytes.
    private static func write(_ texts: [String], into buffer: inout ByteBuffer) {
        writeHeader(count: texts.count, of: .text, into: &buffer)
        let bytes = texts.reduce(0) { $0 + 4 + $1.utf8.count }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes) { room in
            var offset = 0
            for text in texts {
                var text = text
                text.withUTF8 { utf8 in
                    room.storeBytes(of: UInt32(utf8.count).bigEndian, toByteOffset: offset, as: UInt32.self)
                    UnsafeMutableRawBufferPointer(rebasing: room[(offset + 4)...]).copyMemory(from: UnsafeRawBufferPointer(utf8))
                    offset += 4 + utf8.count
                }
            }
            return offset
        }
    }
}
