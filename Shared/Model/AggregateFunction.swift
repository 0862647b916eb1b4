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
