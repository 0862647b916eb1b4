import Foundation
import Hummingbird

extension Request {
    /// The query's parameters in order, names percent-decoded as well as values: Hummingbird decodes
    /// values only, and clients send `match%5B%5D` for `match[]` (browsers' `URLSearchParams`,
    /// Foundation's `URLComponents`, Prometheus' own tools).
    public var decodedQueryParameters: [(String, String)] {
        uri.queryParameters.map { (String($0.key).removingPercentEncoding ?? String($0.key), String($0.value)) }
    }
}
