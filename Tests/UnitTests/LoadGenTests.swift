import Foundation
import LoadGen
import SluiceModel
import Testing

@Suite struct TagPopularityTests {
    @Test func tagOneGetsOnePercentAndTagTwoOnePercentOfTheRest() {
        let popularity = TagPopularity(tagCount: 10_000)
        var generator = SeededGenerator(seed: 42)
        var counts: [Int: Int] = [:]
        let draws = 400_000
        for _ in 0..<draws { counts[popularity.tag(forUniform: generator.unit()), default: 0] += 1 }
        let first = Double(counts[1, default: 0]) / Double(draws)
        let second = Double(counts[2, default: 0]) / Double(draws)
        let hundredth = Double(counts[100, default: 0]) / Double(draws)
        #expect(abs(first - 0.01) < 0.0008, "tag 1 share \(first)")
        #expect(abs(second - 0.0099) < 0.0008, "tag 2 share \(second)")
        #expect(abs(hundredth - popularity.expectedShare(ofTag: 100)) < 0.0006, "tag 100 share \(hundredth)")
        #expect(counts.keys.allSatisfy { (1...10_000).contains($0) })
    }

    @Test func extremeDrawsStayInRange() {
        let popularity = TagPopularity(tagCount: 50)
        #expect(popularity.tag(forUniform: 0) == 1)
        #expect(popularity.tag(forUniform: 0.999_999_999_999) == 50)
        #expect(TagPopularity.name(ofTag: 7) == "tag-00007")
        #expect(TagPopularity.name(ofTag: 10_000).utf8.count < 20)
    }
}

@Suite struct MessageSourceTests {
    @Test func theSameSeedGivesTheSameMessagesAndTimesNeverRepeatPerTag() {
        let frozen: @Sendable () -> Int64 = { 1_000 }
        var first = MessageSource(tags: 5, valuesPerMessage: 10, seed: 9, clock: frozen)
        var second = MessageSource(tags: 5, valuesPerMessage: 10, seed: 9, clock: frozen)
        let a = (0..<200).map { _ in first.next() }
        let b = (0..<200).map { _ in second.next() }
        #expect(a == b)
        for tag in Set(a.map(\.tag)) {
            let times = a.filter { $0.tag == tag }.map(\.time)
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 }, "times of \(tag) must increase")
        }
        #expect(a.allSatisfy { $0.values.count == 10 })
    }

    @Test func valuesMoveALittleBetweenTimestamps() {
        var source = MessageSource(tags: 1, valuesPerMessage: 3, seed: 1, clock: { 5 })
        var previous = source.next().values
        for _ in 0..<100 {
            let values = source.next().values
            #expect(zip(previous, values).allSatisfy { abs($0 - $1) <= 0.5 })
            previous = values
        }
    }
}

@Suite struct RateScheduleTests {
    @Test func messagesDueIsTheIntegralOfTheRate() {
        let schedule = RateSchedule.parse("1000@2,5000@1")
        #expect(schedule != nil)
        #expect(schedule?.messagesDue(after: .seconds(1)) == 1000)
        #expect(schedule?.messagesDue(after: .seconds(2.5)) == 4500)
        #expect(schedule?.messagesDue(after: .seconds(3)) == 7000)
        #expect(schedule?.messagesDue(after: .seconds(4)) == 8000, "the profile repeats")
        #expect(schedule?.rate(at: .seconds(2.5)) == 5000)
    }

    @Test func specProfileAveragesItsPeaksAndParses() {
        #expect(RateSchedule.parse("spec") == .spec)
        // 10k × 60 + 50k × 60 + 10k × 89 + 200k × 1 + 10k × 90: one five-minute cycle
        #expect(RateSchedule.spec.messagesDue(after: .seconds(300)) == 5_590_000)
        #expect(RateSchedule.spec.rate(at: .seconds(209.5)) == 200_000)
        #expect(RateSchedule.parse("constant:250") == .constant(250))
        #expect(RateSchedule.parse("fast") == nil)
        #expect(RateSchedule.parse("10@0") == nil)
    }
}

@Suite struct LedgerTests {
    @Test func ledgerCountsAndRoundTrips() throws {
        var ledger = Ledger()
        ledger.record(tag: "a", time: 5)
        ledger.record(tag: "a", time: 3)
        ledger.record(tag: "b", time: 9)
        #expect(ledger.total == 3)
        #expect(ledger.entries["a"] == Ledger.Entry(count: 2, firstTime: 3, lastTime: 5))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try ledger.write(to: url)
        #expect(try Ledger.read(from: url) == ledger)
    }
}

@Suite struct ReadScheduleTests {
    @Test func oneReadPerIntervalEachAtADifferentInstantOfItsOwnInterval() throws {
        let started = ContinuousClock.now
        var schedule = ReadSchedule(started: started, interval: .milliseconds(100), duration: .seconds(1))
        var generator = SeededGenerator(seed: 3)
        var offsets: [Duration] = []
        while let next = schedule.next(using: &generator, now: started) {
            let slot = Duration.milliseconds(100 * offsets.count)
            #expect(next - started >= slot && next - started < slot + .milliseconds(100))
            offsets.append(next - started - slot)
        }
        #expect(offsets.count == 10)
        // Not one fixed phase: the instants within their intervals differ.
        #expect(Set(offsets).count == 10)
    }

    @Test func aReaderBehindTheClockStopsOnTime() {
        let started = ContinuousClock.now
        var schedule = ReadSchedule(started: started, interval: .milliseconds(100), duration: .seconds(1))
        var generator = SeededGenerator(seed: 3)
        #expect(schedule.next(using: &generator, now: started + .seconds(1)) == nil)
    }
}
