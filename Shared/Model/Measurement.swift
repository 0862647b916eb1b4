/// One measurement of one series: what producers POST and what the writer stores.
public struct Measurement: Sendable, Equatable {
    /// The tenant the series belongs to; `default` unless the producer names one.
    public var domain: String
    /// The series name within its domain.
    public var tag: String
    /// Nanoseconds since the Unix epoch.
    public var time: Int64
    public var values: [Double]

    public init(domain: String = Measurement.defaultDomain, tag: String, time: Int64, values: [Double]) {
        self.domain = domain
        self.tag = tag
        self.time = time
        self.values = values
    }

    public static let defaultDomain = "default"
}
