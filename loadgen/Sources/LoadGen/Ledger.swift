import Foundation

/// What a producer run had accepted, per tag: the verifier compares it with what PostgreSQL holds.
public struct Ledger: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var count: Int
        public var firstTime: Int64
        public var lastTime: Int64

        public init(count: Int, firstTime: Int64, lastTime: Int64) {
            self.count = count
            self.firstTime = firstTime
            self.lastTime = lastTime
        }
    }

    public var domain: String
    public var entries: [String: Entry] = [:]

    public init(domain: String = "default") {
        self.domain = domain
    }

    public var total: Int { entries.values.reduce(0) { $0 + $1.count } }

    public mutating func record(tag: String, time: Int64) {
        if var entry = entries[tag] {
            entry.count += 1
            entry.firstTime = min(entry.firstTime, time)
            entry.lastTime = max(entry.lastTime, time)
            entries[tag] = entry
        } else {
            entries[tag] = Entry(count: 1, firstTime: time, lastTime: time)
        }
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    public static func read(from url: URL) throws -> Ledger {
        try JSONDecoder().decode(Ledger.self, from: Data(contentsOf: url))
    }
}
