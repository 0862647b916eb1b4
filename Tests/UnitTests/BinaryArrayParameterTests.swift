import NIOCore
import PostgresNIO
import SluiceModel
import SluiceStorage
import Testing

/// `BinaryArrayParameter` against PostgresNIO's own encoding of the same Swift arrays: byte for byte, and
/// with the same declared type.
@Suite struct BinaryArrayParameterTests {
    private func bytes(_ value: some PostgresDynamicTypeEncodable) -> ByteBuffer {
        var buffer = ByteBuffer()
        value.encode(into: &buffer, context: .default)
        return buffer
    }

    @Test(arguments: [0, 1, 2, 1000])
    func encodesAsPostgresNIODoes(count: Int) {
        var generator = SeededGenerator(seed: UInt64(count) + 1)
        let doubles = (0..<count).map { _ in Double(bitPattern: UInt64.random(in: .min ... .max, using: &generator)) } + (count > 0 ? [-0.0, .nan] : [])
        let int64s = (0..<count).map { _ in Int64.random(in: .min ... .max, using: &generator) }
        let int32s = (0..<count).map { _ in Int32.random(in: .min ... .max, using: &generator) }
        let texts = (0..<count).map { index in ["", "a", "ünï \"{x,y}\" \\ \t", String(repeating: "z", count: index % 300)][index % 4] }

        #expect(bytes(BinaryArrayParameter.float8(doubles)) == bytes(doubles))
        #expect(bytes(BinaryArrayParameter.int8(int64s)) == bytes(int64s))
        #expect(bytes(BinaryArrayParameter.int4(int32s)) == bytes(int32s))
        #expect(bytes(BinaryArrayParameter.text(texts)) == bytes(texts))
        #expect(BinaryArrayParameter.float8(doubles).psqlType == doubles.psqlType)
        #expect(BinaryArrayParameter.int8(int64s).psqlType == int64s.psqlType)
        #expect(BinaryArrayParameter.int4(int32s).psqlType == int32s.psqlType)
        #expect(BinaryArrayParameter.text(texts).psqlType == texts.psqlType)
        #expect(BinaryArrayParameter.text(texts).psqlFormat == .binary)
    }
}
