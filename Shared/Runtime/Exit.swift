#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ends the process with status 1 after a start-up or fatal error has been logged.
public func exitWithFailure() -> Never {
    exit(1)
}
