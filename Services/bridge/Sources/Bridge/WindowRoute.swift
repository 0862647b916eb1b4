import Foundation
import Hummingbird
import SluiceAuth
import SluiceModel
import SluiceRuntime

/// `POST /v1/window` (and `POST /`): seed 000's window request, answered from the backing jobs.
struct WindowRoute: Sendable {
    let jobs: JobRegistry
    let fillTimeout: Duration

    static let maxBodyBytes = 1_048_576

    func handle(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        let window = try WindowRequest.parse(Data(buffer: body), nowMilliseconds: WallClock.nowNanoseconds() / 1_000_000)
        // Before any job is asked: another domain's tags answer 403 whether they exist or not.
        try context.access.require(.read, domains: window.series.map(\.domain))
        let answers = await answer(window)
        var found: [(series: SeriesKey, first: Int64, slots: [GridSlot])] = []
        var unknown: [String] = []
        for (series, answer) in zip(window.series, answers) {
            switch answer {
            case .unknownSeries: unknown.append(series.tag)
            case .slots(let first, let slots): found.append((series, first, slots))
            }
        }
        guard unknown.isEmpty else {
            throw APIError(
                .notFound,
                "no measurements were ever stored for \(unknown.map(JSONText.quoted).joined(separator: ", ")) in domain \(JSONText.quoted(window.series[0].domain))",
                details: ["unknown_tags": .array(unknown.map(JSONDetail.string))]
            )
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: WindowResponse.body(for: window, slots: found)))
    }

    /// Each series' answer, in request order; several series are asked for concurrently.
    private func answer(_ window: WindowRequest) async -> [JobAnswer] {
        let (jobs, fillTimeout) = (self.jobs, self.fillTimeout)
        @Sendable func ask(_ series: SeriesKey) async -> JobAnswer {
            await jobs.window(
                for: JobKey(series: series, resolutionMilliseconds: window.resolutionMilliseconds, function: window.function),
                first: window.firstIndex, last: window.lastIndex, fillTimeout: fillTimeout
            )
        }
        guard window.series.count > 1 else { return [await ask(window.series[0])] }
        return await withTaskGroup(of: (Int, JobAnswer).self) { group in
            for (index, series) in window.series.enumerated() {
                group.addTask { (index, await ask(series)) }
            }
            var answers = [JobAnswer](repeating: .unknownSeries, count: window.series.count)
            for await (index, answer) in group { answers[index] = answer }
            return answers
        }
    }
}
