import SluiceModel

/// One backing job per series and resolution, however many callers ask.
struct JobKey: Hashable, Sendable, CustomStringConvertible {
    var series: SeriesKey
    var resolutionMilliseconds: Int64

    var description: String { "\(series.domain)/\(series.tag)@\(resolutionMilliseconds)ms" }
}

/// What a job answers for a window.
enum JobAnswer: Sendable {
    /// The query service has never stored this series.
    case unknownSeries
    /// The slots for grid points `first…`, in order.
    case slots(first: Int64, [GridSlot])
}
