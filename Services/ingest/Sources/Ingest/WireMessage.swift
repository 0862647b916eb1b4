import SluiceModel

/// One message as it arrives in JSON, decoded leniently so that a wrong field is reported by position
/// instead of failing the whole body with a decoder error.
struct WireMessage: Decodable {
    struct Problem: Error {
        var reason: String
    }

    private enum Keys: String, CodingKey {
        case time, tag, values, domain, labels
    }

    /// The fields as read, not yet checked against `MeasurementLimits`.
    let decoded: Result<SluiceModel.Measurement, Problem>

    init(from decoder: any Decoder) throws {
        decoded = Self.decodeFields(from: decoder)
    }

    private static func decodeFields(from decoder: any Decoder) -> Result<SluiceModel.Measurement, Problem> {
        guard let container = try? decoder.container(keyedBy: Keys.self) else {
            return .failure(Problem(reason: "is not a JSON object with time, tag and values"))
        }
        guard container.contains(.time) else { return .failure(Problem(reason: "time is missing")) }
        guard let time = try? container.decode(Int64.self, forKey: .time) else {
            return .failure(Problem(reason: "time must be an integer number of nanoseconds that fits in int64"))
        }
        guard container.contains(.tag) else { return .failure(Problem(reason: "tag is missing")) }
        guard let tag = try? container.decode(String.self, forKey: .tag) else {
            return .failure(Problem(reason: "tag must be a string"))
        }
        guard container.contains(.values) else { return .failure(Problem(reason: "values is missing")) }
        guard let values = try? container.decode([Double].self, forKey: .values) else {
            return .failure(Problem(reason: "values must be an array of finite numbers"))
        }
        var domain = SluiceModel.Measurement.defaultDomain
        if container.contains(.domain) {
            guard let named = try? container.decode(String.self, forKey: .domain) else {
                return .failure(Problem(reason: "domain must be a string"))
            }
            domain = named
        }
        // The series' one text form, made here where its structure is known (`IngestBody` takes it as is):
        // a tag written as name{labels} in another key order is the same series.
        var series = SeriesName.canonicalize(tag)
        if container.contains(.labels) {
            guard let labels = try? container.decode([String: String].self, forKey: .labels) else {
                return .failure(Problem(reason: "labels must be an object of strings, e.g. {\"host\": \"a\"}"))
            }
            if !labels.isEmpty {
                if let problem = MeasurementLimits.problem(withLabels: labels) { return .failure(Problem(reason: problem)) }
                guard !tag.contains("{") else { return .failure(Problem(reason: "a tag with labels must not contain '{'")) }
                series = SeriesName(name: tag, labels: labels).canonical
            }
        }
        return .success(SluiceModel.Measurement(domain: domain, tag: series, time: time, values: values))
    }
}
