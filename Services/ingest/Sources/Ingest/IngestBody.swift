import Foundation
import SluiceModel

/// Why a measurement at a given position in a request body was refused.
public struct MessageProblem: Sendable, Equatable, CustomStringConvertible {
    /// Zero-based position of the message in the body (array element or NDJSON line).
    public var index: Int
    public var reason: String

    public init(index: Int, reason: String) {
        self.index = index
        self.reason = reason
    }

    public var description: String { "message \(index): \(reason)" }
}

/// A request body that cannot be accepted; the whole request is refused so nothing is half-stored.
public enum IngestBodyError: Error, Sendable, Equatable {
    /// The body is not JSON (or NDJSON) at all.
    case malformed(String)
    /// The body holds no messages.
    case empty
    /// Some messages are invalid; `problems` lists the first few, `invalidCount` all of them.
    case invalidMessages(problems: [MessageProblem], invalidCount: Int, total: Int)

    /// Not readable as messages at all (as opposed to readable messages that break a rule).
    var isMalformed: Bool {
        if case .invalidMessages = self { return false }
        return true
    }
}

/// Parses `POST /save` bodies: one JSON object, a JSON array of objects, or NDJSON (one object per line).
public struct IngestBodyDecoder: Sendable {
    /// How many problems an error names; a body of 10,000 bad messages should not produce a 10,000-line answer.
    public var maxReportedProblems: Int
    /// Whether the fast `MessageScanner` reads bodies first; off only to measure the general decoder alone.
    public var usesScanner: Bool

    public init(maxReportedProblems: Int = 10, usesScanner: Bool = true) {
        self.maxReportedProblems = maxReportedProblems
        self.usesScanner = usesScanner
    }

    /// Decodes and validates every message of a body.
    /// - Parameters:
    ///   - body: the raw request body.
    ///   - isNDJSON: true when the request said so in its content type; otherwise the format is detected.
    /// - Throws: `IngestBodyError` naming what to fix.
    public func decode(_ body: [UInt8], isNDJSON: Bool = false) throws(IngestBodyError) -> [SluiceModel.Measurement] {
        let result = body.withUnsafeBufferPointer { buffer in Result { () throws(IngestBodyError) in try decode(buffer, isNDJSON: isNDJSON) } }
        return try result.get()
    }

    /// Decodes bytes the caller holds, such as a request's own buffer: the usual body is read in place,
    /// never copied; only a body the scanner declines is copied for `JSONDecoder`.
    public func decode(_ body: UnsafeBufferPointer<UInt8>, isNDJSON: Bool = false) throws(IngestBodyError) -> [SluiceModel.Measurement] {
        guard let first = body.first(where: { !Self.isWhitespace($0) }) else { throw .empty }
        let layout: MessageScanner.Layout
        if isNDJSON || (first == UInt8(ascii: "{") && Self.looksLikeNDJSON(body)) {
            layout = .lines
        } else if first == UInt8(ascii: "[") {
            layout = .array
        } else if first == UInt8(ascii: "{") {
            layout = .object
        } else {
            throw .malformed("the body must be a JSON object, a JSON array of objects, or NDJSON")
        }
        // The fast path reads the usual shape; whatever it declines, the general decoder reads and explains.
        let candidates: [Result<SluiceModel.Measurement, WireMessage.Problem>]
        if usesScanner, let scanned = MessageScanner.measurements(in: body, layout: layout) {
            candidates = scanned.map { .success($0) }
        } else {
            switch layout {
            case .lines: candidates = try decodeLines(body).map(\.decoded)
            case .array: candidates = try decodeJSON([WireMessage].self, from: Data(body), what: "JSON array").map(\.decoded)
            case .object: candidates = [try decodeJSON(WireMessage.self, from: Data(body), what: "JSON object").decoded]
            }
        }
        if candidates.isEmpty { throw .empty }
        return try validate(candidates)
    }

    private func validate(_ candidates: [Result<SluiceModel.Measurement, WireMessage.Problem>]) throws(IngestBodyError) -> [SluiceModel.Measurement] {
        var measurements: [SluiceModel.Measurement] = []
        measurements.reserveCapacity(candidates.count)
        var problems: [MessageProblem] = []
        var invalidCount = 0
        for (index, candidate) in candidates.enumerated() {
            // Tags come canonical from the decoders (`SeriesName.canonical`), which know the labels' structure.
            let checked = candidate.flatMap { measurement -> Result<SluiceModel.Measurement, WireMessage.Problem> in
                MeasurementLimits.problem(with: measurement).map { .failure(WireMessage.Problem(reason: $0)) } ?? .success(measurement)
            }
            switch checked {
            case .success(let measurement):
                measurements.append(measurement)
            case .failure(let problem):
                invalidCount += 1
                if problems.count < maxReportedProblems {
                    problems.append(MessageProblem(index: index, reason: problem.reason))
                }
            }
        }
        guard invalidCount == 0 else {
            throw .invalidMessages(problems: problems, invalidCount: invalidCount, total: candidates.count)
        }
        return measurements
    }

    private func decodeLines(_ body: UnsafeBufferPointer<UInt8>) throws(IngestBodyError) -> [WireMessage] {
        var messages: [WireMessage] = []
        var lineNumber = 0
        for line in Self.lines(of: body) {
            lineNumber += 1
            guard line.contains(where: { !Self.isWhitespace($0) }) else { continue }
            do {
                messages.append(try JSONDecoder().decode(WireMessage.self, from: Data(line)))
            } catch {
                throw .malformed("line \(lineNumber) is not a JSON object: \(Self.summary(of: error))")
            }
        }
        return messages
    }

    private func decodeJSON<T: Decodable>(_ type: T.Type, from body: Data, what: String) throws(IngestBodyError) -> T {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw .malformed("the body is not a valid \(what): \(Self.summary(of: error))")
        }
    }

    /// True when a body starting with `{` has several lines that each hold a whole object.
    static func looksLikeNDJSON(_ body: UnsafeBufferPointer<UInt8>) -> Bool {
        var objects = 0
        for line in lines(of: body) where line.contains(where: { !isWhitespace($0) }) {
            guard line.first(where: { !isWhitespace($0) }) == UInt8(ascii: "{"), line.last(where: { !isWhitespace($0) }) == UInt8(ascii: "}") else {
                return false
            }
            objects += 1
        }
        return objects > 1
    }

    /// The body's lines, split at each newline, one at a time: views into the body, never copies.
    static func lines(of body: UnsafeBufferPointer<UInt8>) -> some Sequence<Slice<UnsafeBufferPointer<UInt8>>> {
        var start = body.startIndex
        var finished = false
        return AnySequence {
            AnyIterator { () -> Slice<UnsafeBufferPointer<UInt8>>? in
                guard !finished else { return nil }
                let end = body[start...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
                defer {
                    if end == body.endIndex { finished = true } else { start = end + 1 }
                }
                return body[start..<end]
            }
        }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// A one-line account of a JSON syntax error, without echoing the body back.
    static func summary(of error: any Error) -> String {
        guard let decodingError = error as? DecodingError else { return "unreadable JSON" }
        switch decodingError {
        case .dataCorrupted(let context):
            return context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            return context.debugDescription
        @unknown default:
            return "unreadable JSON"
        }
    }
}
