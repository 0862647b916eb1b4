#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wall clock in integer nanoseconds since the Unix epoch, the unit of every Sluice timestamp.
public enum WallClock {
    /// Read with `clock_gettime`, exact to the nanosecond (a `Double` of seconds is only good to ~256 ns today).
    public static func nowNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
