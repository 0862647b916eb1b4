import SluiceModel
import Testing

@testable import Writer

/// The writer's series-to-slot table against a `Dictionary` holding the same entries.
@Suite struct SeriesSlotsTests {
    /// Ids as a sequence gives them, with gaps, far apart and negative, inserted past several growths:
    /// every id inserted is found in its slot and no other id is found.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func findsEveryInsertedIdAndNoOther(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var slots = SeriesSlots()
        var expected: [Int64: Int] = [:]
        var next: Int64 = 1
        for slot in 0..<20_000 {
            let id: Int64 =
                switch slot % 4 {
                case 0: Int64.random(in: .min ... .max, using: &generator)
                case 1: next * 1 << 32  // equal low bits
                default: next
                }
            next += Int64.random(in: 1...3, using: &generator)
            guard expected[id] == nil else { continue }
            slots.insert(id, slot: slot)
            expected[id] = slot
        }
        #expect(slots.count == expected.count)
        #expect(expected.allSatisfy { slots[$0.key] == $0.value })
        var absent = 0
        for _ in 0..<20_000 {
            let id = Int64.random(in: .min ... .max, using: &generator)
            if expected[id] == nil, slots[id] != nil { absent += 1 }
        }
        #expect(absent == 0)
        #expect(SeriesSlots()[0] == nil)
    }
}
