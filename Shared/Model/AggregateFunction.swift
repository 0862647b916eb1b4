/// What `fn=` computes per bucket and value index, in `/api` and in the bridge's windows. `fn=asof`, the
/// default of both, is no aggregate: the value as of each sample time.
public enum AggregateFunction: String, Sendable, CaseIterable {
    case last, first, min, max, avg, sum, count
    /// Per second: the bucket's increase (a decrease is a counter reset) over the step.
    case rate

    /// `fn=asof`, the default reading.
    public static let asOfName = "asof"
    /// Every `fn=` accepted, as-of first.
    public static var names: [String] { [asOfName] + allCases.map(\.rawValue) }

    /// What `fn=<text>` asks for: nil for `asof`; a refusal for anything else not listed.
    public static func reading(_ text: String) -> Result<AggregateFunction?, UnknownFunction> {
        if text == asOfName { return .success(nil) }
        guard let function = AggregateFunction(rawValue: text) else { return .failure(UnknownFunction(text: text)) }
        return .success(function)
    }

    public struct UnknownFunction: Error, CustomStringConvertible {
        public var text: String
        public var description: String { "fn must be one of \(AggregateFunction.names.joined(separator: ", ")); got '\(text)'" }
    }
}

extension AggregateFunction {
    /// A figure a bucket keeps for each value index.
    public enum Figure: Sendable {
        case count, sum, minimum, maximum, first, last, increase
    }

    /// The answer for one value index of a bucket, from the figures `figure` reads; nil when the index holds
    /// no point. One definition for both forms a bucket takes (`BucketState`'s arrays, `BucketAccumulator`'s
    /// flat block), so a tier-built and a raw-built answer cannot drift apart.
    @inlinable
    public func value(stepNanoseconds: Int64, _ figure: (Figure) -> Double) -> Double? {
        let count = figure(.count)
        guard count > 0 else { return nil }
        switch self {
        case .last: return figure(.last)
        case .first: return figure(.first)
        case .min: return figure(.minimum)
        case .max: return figure(.maximum)
        case .sum: return figure(.sum)
        case .avg: return figure(.sum) / count
        case .count: return count
        case .rate: return figure(.increase) / (Double(stepNanoseconds) / 1e9)
        }
    }
}
