import SluiceModel

/// One backing job per series, resolution and reading (as-of or an aggregate), however many callers ask.
struct JobKey: Hashable, Sendable, CustomStringConvertible {
    var series: SeriesKey
    var resolutionMilliseconds: Int64
    /// Nil: the as-of values at each grid point.
    var function: AggregateFunction? = nil

    var description: String { "\(series.domain)/\(series.tag)@\(resolutionMilliseconds)ms\(function.map { " fn=\($0.rawValue)" } ?? "")" }
}

/// What a job answers for a window.
enum JobAnswer: Sendable {
    /// The query service has never stored this series.
    case unknownSeries
    /// The slots for grid points `first…`, in order.
    case slots(first: Int64, [GridSlot])
}
