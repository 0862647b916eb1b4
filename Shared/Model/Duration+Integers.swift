extension Duration {
    /// This duration in whole nanoseconds (truncated), for metrics and time arithmetic in Sluice's unit.
    public var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    /// This duration in seconds, fractions kept: for rates and SQL intervals.
    public var fractionalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// This duration in whole milliseconds (truncated).
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
