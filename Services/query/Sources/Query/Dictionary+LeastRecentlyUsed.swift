extension Dictionary {
    /// Removes entries, the one used longest ago first, until `total` (the entries' bytes, kept by the
    /// caller and lowered here) is at most `limit`: one sort per overflow, rather than bookkeeping on
    /// every use. How the query service's caches stay within their budgets.
    mutating func forgetLeastRecentlyUsed(total: inout Int, toAtMost limit: Int, lastUse: (Value) -> UInt64, bytes: (Value) -> Int) {
        for (key, value) in sorted(by: { lastUse($0.value) < lastUse($1.value) }) {
            guard total > limit else { return }
            self[key] = nil
            total -= bytes(value)
        }
    }
}
