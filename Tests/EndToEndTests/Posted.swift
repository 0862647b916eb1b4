import Foundation

/// A measurement as the tests send it, and the JSON they send it as.
struct Posted: Equatable {
    var tag: String
    var time: Int64
    var values: [Double]

    var json: String {
        #"{"time":\#(time),"tag":"\#(tag)","values":[\#(values.map { "\($0)" }.joined(separator: ","))]}"#
    }

    static func array(_ items: [Posted]) -> Data {
        Data(("[" + items.map(\.json).joined(separator: ",") + "]").utf8)
    }

    static func ndjson(_ items: [Posted]) -> Data {
        Data((items.map(\.json).joined(separator: "\n") + "\n").utf8)
    }
}

/// The current time in ns since the epoch.
func nowNanoseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1_000_000_000)
}
