import Foundation
import NIOCore
import PostgresNIO
import SluiceRuntime

/// Turns a result cell of an analyst's SQL into JSON, from PostgreSQL's binary form: numbers as numbers
/// (NaN and infinities as PostgreSQL spells them, in strings), times as ISO 8601 UTC to the microsecond,
/// `json`/`jsonb` as themselves, one-dimensional arrays of these as arrays. Any other type is refused
/// with the column named, so a result never holds bytes nobody can read; a cast (`::text`) carries it.
enum HistoryCell {
    struct Unsupported: Error, CustomStringConvertible {
        var column: String
        var type: PostgresDataType
        var description: String {
            "column \(JSONText.quoted(column)) is of type \(type.knownSQLName ?? "oid \(type.rawValue)"), which history results do not carry; cast it (\(column)::text)"
        }
    }

    /// The SQL name results report for a column's type.
    static func typeName(_ type: PostgresDataType) -> String {
        (type.knownSQLName ?? "oid \(type.rawValue)").lowercased()
    }

    static func json(_ cell: PostgresCell) throws -> String {
        guard var bytes = cell.bytes else { return "null" }
        guard let text = try scalar(cell.dataType, &bytes) ?? array(cell.dataType, &bytes) else {
            throw Unsupported(column: cell.columnName, type: cell.dataType)
        }
        return text
    }

    /// The element types arrays may hold, by array type.
    static let elementTypes: [PostgresDataType: PostgresDataType] = [
        .boolArray: .bool, .int2Array: .int2, .int4Array: .int4, .int8Array: .int8, .float4Array: .float4, .float8Array: .float8,
        .numericArray: .numeric, .textArray: .text, .varcharArray: .varchar, .jsonbArray: .jsonb, .uuidArray: .uuid,
        .timestamptzArray: .timestamptz, .timestampArray: .timestamp, .dateArray: .date,
    ]

    /// A one-dimensional array (PostgreSQL's binary layout: dimensions, null flag, element type, then
    /// per dimension its length and lower bound, then each element's length, -1 for null, and bytes).
    private static func array(_ type: PostgresDataType, _ bytes: inout ByteBuffer) throws -> String? {
        guard let element = elementTypes[type] else { return nil }
        guard let dimensions = bytes.readInteger(as: Int32.self), bytes.readInteger(as: Int32.self) != nil,
            bytes.readInteger(as: UInt32.self) != nil
        else { throw PostgresDecodingError.Code.failure }
        if dimensions == 0 { return "[]" }
        guard dimensions == 1, let count = bytes.readInteger(as: Int32.self), bytes.readInteger(as: Int32.self) != nil else {
            throw PostgresDecodingError.Code.failure
        }
        var items: [String] = []
        items.reserveCapacity(Int(max(0, count)))
        for _ in 0..<max(0, count) {
            guard let length = bytes.readInteger(as: Int32.self) else { throw PostgresDecodingError.Code.failure }
            if length < 0 {
                items.append("null")
                continue
            }
            guard var item = bytes.readSlice(length: Int(length)), let text = try scalar(element, &item) else { throw PostgresDecodingError.Code.failure }
            items.append(text)
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    private static func scalar(_ type: PostgresDataType, _ bytes: inout ByteBuffer) throws -> String? {
        let context = PostgresDecodingContext.default
        switch type {
        case .bool:
            return try Bool(from: &bytes, type: type, format: .binary, context: context) ? "true" : "false"
        case .int2, .int4, .int8:
            return String(try Int64(from: &bytes, type: type, format: .binary, context: context))
        case .float4:
            return number(Double(try Float(from: &bytes, type: type, format: .binary, context: context)))
        case .float8:
            return number(try Double(from: &bytes, type: type, format: .binary, context: context))
        case .numeric:
            let value = try Decimal(from: &bytes, type: type, format: .binary, context: context)
            return value.isNaN ? "\"NaN\"" : "\(value)"
        case .text, .varchar, .bpchar, .name, .uuid:
            return JSONText.quoted(try String(from: &bytes, type: type, format: .binary, context: context))
        case .json, .jsonb:
            return try String(from: &bytes, type: type, format: .binary, context: context)
        case .timestamptz, .timestamp:
            guard let microseconds = bytes.readInteger(as: Int64.self) else { throw PostgresDecodingError.Code.failure }
            return JSONText.quoted(timestamp(microsecondsSince2000: microseconds))
        case .date:
            guard let days = bytes.readInteger(as: Int32.self) else { throw PostgresDecodingError.Code.failure }
            if days == Int32.max { return "\"infinity\"" }
            if days == Int32.min { return "\"-infinity\"" }
            return JSONText.quoted(civil(daysSince1970: Int64(days) + daysFrom1970To2000).text)
        default:
            return nil
        }
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value.isInfinite { return value > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
        return JSONText.number(value)
    }

    static let daysFrom1970To2000: Int64 = 10_957

    /// `2026-12-06T12:00:00.123456Z` from PostgreSQL's microseconds since 2000-01-01 UTC.
    static func timestamp(microsecondsSince2000 value: Int64) -> String {
        if value == Int64.max { return "infinity" }
        if value == Int64.min { return "-infinity" }
        let perDay: Int64 = 86_400_000_000
        let (days, within) = (value.floorDivided(by: perDay), value.floorModulo(perDay))
        let date = civil(daysSince1970: days + daysFrom1970To2000)
        let seconds = within / 1_000_000
        let fraction = within % 1_000_000
        let clock = String(format: "%02lld:%02lld:%02lld", seconds / 3600, seconds / 60 % 60, seconds % 60)
        return date.text + "T" + clock + (fraction == 0 ? "" : String(format: ".%06lld", fraction)) + "Z"
    }

    /// The proleptic Gregorian date of a day count (Howard Hinnant's `civil_from_days`).
    static func civil(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64, text: String) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, String(format: "%04lld-%02lld-%02lld", year, month, day))
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int64) -> Int64 {
        self - floorDivided(by: divisor) * divisor
    }
}
