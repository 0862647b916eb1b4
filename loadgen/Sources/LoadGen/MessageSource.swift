import SluiceModel

/// Generates the spec's messages: a tag by geometric popularity, the wall clock in ns, values on a random
/// walk. Times are strictly increasing per tag, so no two messages of a tag can collide in storage.
public struct MessageSource: Sendable {
    public struct Message: Sendable, Equatable {
        public var tag: String
        public var time: Int64
        public var values: [Double]

        public init(tag: String, time: Int64, values: [Double]) {
            self.tag = tag
            self.time = time
            self.values = values
        }
    }

    private let popularity: TagPopularity
    private var walk: RandomWalk
    private var generator: SeededGenerator
    private var lastTime: [Int: Int64] = [:]
    private let clock: @Sendable () -> Int64

    public init(tags: Int, valuesPerMessage: Int, seed: UInt64, clock: @escaping @Sendable () -> Int64 = WallClock.nowNanoseconds) {
        popularity = TagPopularity(tagCount: tags)
        walk = RandomWalk(width: valuesPerMessage)
        generator = SeededGenerator(seed: seed)
        self.clock = clock
    }

    public mutating func next() -> Message {
        let tag = popularity.tag(forUniform: generator.unit())
        let now = clock()
        let time = max(now, (lastTime[tag] ?? 0) + 1)
        lastTime[tag] = time
        return Message(tag: TagPopularity.name(ofTag: tag), time: time, values: walk.next(forTag: tag, using: &generator))
    }
}

extension MessageSource.Message {
    /// The message as ingest's JSON.
    public var json: String {
        var text = #"{"time":\#(time),"tag":"\#(tag)","values":["#
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            text += value.description
        }
        return text + "]}"
    }
}
