import SluiceModel

extension SeededGenerator {
    /// One to four byte-level mutations of `bytes`: a byte replaced, inserted or removed, or the rest cut
    /// off. New bytes come from `alphabet` (the bytes a format's syntax turns on), or are any byte.
    mutating func mutate(_ bytes: [UInt8], alphabet: [UInt8]? = nil) -> [UInt8] {
        var mutated = bytes
        for _ in 0..<Int.random(in: 1...4, using: &self) {
            let position = mutated.isEmpty ? 0 : Int.random(in: 0..<mutated.count, using: &self)
            let byte = alphabet?.randomElement(using: &self) ?? UInt8.random(in: 0...255, using: &self)
            switch Int.random(in: 0..<4, using: &self) {
            case 0 where !mutated.isEmpty: mutated[position] = byte
            case 1: mutated.insert(byte, at: position)
            case 2 where !mutated.isEmpty: mutated.remove(at: position)
            default: mutated = Array(mutated.prefix(position))
            }
        }
        return mutated
    }
}
