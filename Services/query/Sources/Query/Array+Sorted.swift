extension Array {
    /// Whether each element is in order after the one before it.
    func isSorted(by areInIncreasingOrder: (Element, Element) -> Bool) -> Bool {
        zip(self, dropFirst()).allSatisfy { areInIncreasingOrder($0, $1) }
    }

    /// The index of the first element for which `belongs` holds, all later ones holding it too.
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

}
