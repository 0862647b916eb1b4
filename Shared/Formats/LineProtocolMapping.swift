import SluiceModel

extension LineProtocol {
    /// How points become Sluice measurements: each numeric field is its own series, named
    /// `<measurement>.<field>` with the tags as labels (keys made label names by `LabelKey`), holding one
    /// value. Integers and unsigned integers become doubles (exact up to 2⁵³), booleans 1 and 0. A string
    /// field refuses its line: Sluice stores numbers, and dropping it silently would lose data the agent
    /// believes stored.
    ///
    /// - Parameters:
    ///   - unitNanoseconds: the request's precision (`nanosecondsPerUnit(precision:)`).
    ///   - now: the time of points without a timestamp, one for the whole request as InfluxDB does.
    /// - Returns: the measurements, or the first `limit` lines that cannot be stored and why.
    public static func measurements(
        from points: [Point], domain: String, unitNanoseconds: Int64, now: Int64, problemLimit limit: Int = 10
    ) -> Result<[Measurement], Refusal> {
        var measurements: [Measurement] = []
        measurements.reserveCapacity(points.count)
        var problems: [SyntaxError] = []
        for point in points {
            switch stored(point, domain: domain, unitNanoseconds: unitNanoseconds, now: now) {
            case .success(let found): measurements += found
            case .failure(let problem):
                problems.append(SyntaxError(line: point.line, message: problem.message))
                if problems.count >= limit { return .failure(Refusal(problems: problems)) }
            }
        }
        return problems.isEmpty ? .success(measurements) : .failure(Refusal(problems: problems))
    }

    private struct Unstorable: Error {
        var message: String
    }

    private static func stored(_ point: Point, domain: String, unitNanoseconds: Int64, now: Int64) -> Result<[Measurement], Unstorable> {
        let labels: [String: String]
        switch LabelKey.labels(from: point.tags) {
        case .success(let found): labels = found
        case .failure(let collision): return .failure(Unstorable(message: collision.description))
        }
        if let problem = MeasurementLimits.problem(withLabels: labels) { return .failure(Unstorable(message: problem)) }
        var time = now
        if let timestamp = point.timestamp {
            let (scaled, overflow) = timestamp.multipliedReportingOverflow(by: unitNanoseconds)
            guard !overflow else { return .failure(Unstorable(message: "timestamp \(timestamp) is out of range for its precision")) }
            time = scaled
        }
        // A field written twice in one line: the last one counts, as in InfluxDB.
        var order: [String] = []
        var values: [String: Double] = [:]
        for (key, value) in point.fields {
            let number: Double
            switch value {
            case .float(let float): number = float
            case .integer(let integer): number = Double(integer)
            case .unsigned(let unsigned): number = Double(unsigned)
            case .boolean(let boolean): number = boolean ? 1 : 0
            case .string:
                return .failure(
                    Unstorable(
                        message:
                            "field \(key.debugDescription) is a string; Sluice stores numbers only (drop the field at the agent, e.g. Telegraf's fielddrop)"))
            }
            if values.updateValue(number, forKey: key) == nil { order.append(key) }
        }
        var measurements: [Measurement] = []
        measurements.reserveCapacity(order.count)
        for key in order {
            let name = "\(point.measurement).\(key)"
            if name.utf8.contains(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") }) {
                return .failure(Unstorable(message: "series name \(name.debugDescription) holds '{' or '}', which Sluice reserves for labels"))
            }
            let measurement = Measurement(domain: domain, tag: SeriesName(name: name, labels: labels).canonical, time: time, values: [values[key] ?? 0])
            if let problem = MeasurementLimits.problem(with: measurement) { return .failure(Unstorable(message: "\(name): \(problem)")) }
            measurements.append(measurement)
        }
        return .success(measurements)
    }
}
