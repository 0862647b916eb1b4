import Foundation
import SluiceTestSupport
import Testing

/// The bridge's chart page in a real browser: Debian's Chromium, headless, loads it against a running
/// stack with known data, and what the page says it plotted (its own `#state`) must equal the bridge's
/// answer point for point. A screenshot is kept in `.build/test-artifacts/`. With keys required and no
/// key, the page shows the 401.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ChartPageTests {
    /// Runs headless Chromium with `arguments` and the URL; its standard output (the DOM, with `--dump-dom`).
    func chromium(_ url: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        // Root in CI needs --no-sandbox; the profile is a fresh one per run, so nothing carries over.
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        process.arguments =
            ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)", "--virtual-time-budget=15000"]
            + arguments + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reading = Task { output.fileHandleForReading.readDataToEndOfFile() }
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { process.terminate() }
        defer { try? FileManager.default.removeItem(at: profile) }
        return String(decoding: await reading.value, as: UTF8.self)
    }

    /// The page's `#state` JSON from a dumped DOM.
    func pageState(_ dom: String) throws -> [String: Any] {
        let opening = try #require(dom.range(of: #"<pre id="state" hidden="">"#), "no #state in:\n\(dom.prefix(2000))")
        let closing = try #require(dom.range(of: "</pre>", range: opening.upperBound..<dom.endIndex))
        let text = String(dom[opening.upperBound..<closing.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "\(text)")
    }

    @Test func thePagePlotsExactlyWhatTheBridgeAnswers() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true)
            // Ten points over the last five minutes, a value each second grid point can show exactly.
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            let sent: [Posted] = (0..<10).map { (index: Int) -> Posted in
                let secondsAgo = Int64(300 - 30 * index)
                // Ten values, as producers send them: the first two are checked by value below.
                let values = [Double(index) + 0.25, -Double(index)] + (2..<10).map { Double($0 * 100 + index) }
                return Posted(tag: "chart-a", time: now - secondsAgo * 1_000_000_000, values: values)
            }
            #expect(try await HTTP.post(stack.ingestURL + "/save", body: Posted.array(sent)).status == 202)
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let reply = try await HTTP.post(stack.bridgeURL + "/v1/window", body: Data(#"{"tag":"chart-a","start_time_ms":-900000}"#.utf8))
                if reply.status == 200, reply.text.contains("9.25") { break }
                try await Task.sleep(for: .milliseconds(100))
            }

            let url = stack.bridgeURL + "/?domain=default&series=chart-a&window=900000"
            let dom = try await chromium(url, ["--dump-dom"])
            let state = try pageState(dom)
            #expect((state["errors"] as? [Any])?.isEmpty == true, "\(state)")
            let chart = try #require((state["series"] as? [String: Any])?["chart-a"] as? [String: Any], "\(state)")
            let plotted = try #require(chart["plotted"] as? [[Any]])
            // The bridge's answer for the same window, asked now: every point both hold agrees exactly.
            let reply = try await HTTP.post(stack.bridgeURL + "/v1/window", body: Data(#"{"tag":"chart-a","start_time_ms":-900000}"#.utf8))
            let answer = try #require(try reply.json() as? [String: Any])
            let data = try #require((answer["data"] as? [String: Any])?["chart-a"] as? [[Any]])
            var bridge: [Int64: [Double]] = [:]
            for point in data {
                if let time = (point[0] as? NSNumber)?.int64Value, let values = point[1] as? [Double] { bridge[time] = values }
            }
            var compared = 0
            for row in plotted {
                guard let time = (row.first as? NSNumber)?.int64Value, let expected = bridge[time] else { continue }
                #expect(row.dropFirst().compactMap { ($0 as? NSNumber)?.doubleValue } == expected, "at \(time)")
                compared += 1
            }
            #expect(compared > 200 && compared >= bridge.count - 10, "compared \(compared) of the bridge's \(bridge.count) points")
            #expect(plotted.contains { ($0.dropFirst().first as? NSNumber)?.doubleValue == 9.25 }, "the newest value is plotted")
            // `render_ms` is not read here: under --virtual-time-budget the page's clock stands still.

            // A screenshot for people to look at.
            let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/test-artifacts").standardized
            try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
            let shot = artifacts.appendingPathComponent("chart-page.png")
            try? FileManager.default.removeItem(at: shot)
            _ = try await chromium(url, ["--screenshot=\(shot.path)", "--window-size=1280,900", "--hide-scrollbars"])
            let size = (try? FileManager.default.attributesOfItem(atPath: shot.path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "the screenshot at \(shot.path) holds \(size) bytes")
            await stack.stop()
        }
    }

    @Test func withKeysRequiredAndNoKeyThePageShowsThe401() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true, requireKeys: true)
            let dom = try await chromium(stack.bridgeURL + "/?domain=default&series=chart-a&window=900000", ["--dump-dom"])
            let state = try pageState(dom)
            let errors = try #require(state["errors"] as? [String])
            #expect(errors.contains { $0.contains("401") }, "\(errors)")
            #expect(dom.contains(#"<div id="status" class="error">"#), "the refusal is shown, not swallowed")
            await stack.stop()
        }
    }
}
