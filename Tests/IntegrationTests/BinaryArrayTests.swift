import Logging
import NIOCore
import PostgresNIO
import SluiceStorage
import SluiceTestSupport
import Testing

/// `BinaryArray` reads what PostgreSQL sends for arrays exactly as PostgresNIO's own decoding does, and
/// refuses what it cannot read.
@Suite struct BinaryArrayTests {
    func bytes(_ client: PostgresClient, _ sql: String) async throws -> ByteBuffer {
        var found: ByteBuffer?
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(ByteBuffer.self) { found = value }
        return try #require(found)
    }

    @Test func arraysReadAsPostgresSendsThem() async throws {
        try await TestDatabase.with { _, client in
            let literal = "'{1.5,-0,2e-308,1.7976931348623157e308,-3,0.1}'::float8[]"
            var expected: [Double] = []
            for try await values in try await client.query(PostgresQuery(unsafeSQL: "select \(literal)")).decode([Double].self) { expected = values }
            let doubles = try BinaryArray.doubles(try await bytes(client, "select \(literal)"))
            #expect(doubles.map(\.bitPattern) == expected.map(\.bitPattern))
            #expect(try BinaryArray.doubles(try await bytes(client, "select '{}'::float8[]")) == [])
            #expect(try BinaryArray.int32s(try await bytes(client, "select '{7,-2147483648,2147483647}'::int[]")) == [7, Int32.min, Int32.max])
            #expect(throws: BinaryArray.Malformed.self) { try BinaryArray.doubles(try #require(Optional(ByteBuffer(bytes: [0, 0, 0, 1])))) }
            let withNull = try await bytes(client, "select '{1,null}'::float8[]")
            #expect(throws: BinaryArray.Malformed.self) { try BinaryArray.doubles(withNull) }
            let twoDimensional = try await bytes(client, "select '{{1,2},{3,4}}'::float8[]")
            #expect(throws: BinaryArray.Malformed.self) { try BinaryArray.doubles(twoDimensional) }
            let integers = try await bytes(client, "select '{1,2}'::int[]")
            #expect(throws: BinaryArray.Malformed.self) { try BinaryArray.doubles(integers) }
        }
    }
}
