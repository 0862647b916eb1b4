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
        // Root in CI needs --no-sandbox; the profile is a fresh one per run, so nothing carries over.
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let options = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)", "--virtual-time-budget=15000"]
        return try await Program.run("/usr/bin/chromium", options + arguments + [url], within: .seconds(60)).output
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

    /// Compares what the page plotted with the bridge's answer to `body` (asked now, with no key): every
    /// point both hold must agree exactly. Returns how many were compared and how many the bridge answered.
    func compare(_ plotted: [[Any]], withTheBridgeOf stack: SluiceStack, body: String) async throws -> (compared: Int, answered: Int) {
        let reply = try await HTTP.post(stack.bridgeURL + "/v1/window", body: Data(body.utf8))
        let answer = try #require(try reply.json() as? [String: Any], "\(reply.text)")
        let data = try #require((answer["data"] as? [String: Any])?.values.first as? [[Any]], "\(answer)")
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
        return (compared, bridge.count)
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
            let (compared, answered) = try await compare(plotted, withTheBridgeOf: stack, body: #"{"tag":"chart-a","start_time_ms":-900000}"#)
            #expect(compared > 200 && compared >= answered - 10, "compared \(compared) of the bridge's \(answered) points")
            #expect(plotted.contains { ($0.dropFirst().first as? NSNumber)?.doubleValue == 9.25 }, "the newest value is plotted")

            // The maximum per step, chosen by the link: what the bridge answers for fn=max.
            let maxima = try pageState(try await chromium(url + "&fn=max", ["--dump-dom"]))
            #expect(maxima["fn"] as? String == "max" && (maxima["errors"] as? [Any])?.isEmpty == true, "\(maxima)")
            let plottedMaxima = try #require(((maxima["series"] as? [String: Any])?["chart-a"] as? [String: Any])?["plotted"] as? [[Any]])
            let (comparedMaxima, answeredMaxima) = try await compare(
                plottedMaxima, withTheBridgeOf: stack, body: #"{"tag":"chart-a","start_time_ms":-900000,"fn":"max"}"#
            )
            #expect(answeredMaxima >= 9 && comparedMaxima >= answeredMaxima - 1, "compared \(comparedMaxima) of the bridge's \(answeredMaxima) maxima")

            // Found by a label matcher: the page lists what the query service's search selects, nothing else.
            let labelled =
                #"[{"tag":"chart-l","labels":{"host":"a"},"time":\#(now),"values":[1]},{"tag":"chart-l","labels":{"host":"b"},"time":\#(now),"values":[2]}]"#
            #expect(try await HTTP.post(stack.ingestURL + "/save", body: Data(labelled.utf8)).status == 202)
            let listedBy = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < listedBy,
                try await HTTP.get(stack.bridgeURL + "/series?domain=default&prefix=chart-l").text.contains("host=\\\"b") == false
            {
                try await Task.sleep(for: .milliseconds(100))
            }
            let found = try pageState(try await chromium(stack.bridgeURL + "/?domain=default&prefix=chart&labels=host%3D%22a%22", ["--dump-dom"]))
            #expect(found["listed"] as? [String] == [#"chart-l{host="a"}"#], "\(found)")
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

    /// Runs `scripts/agents/page-driver.py` (Chromium over its DevTools protocol, in real time) on `url`
    /// with `steps`; its results, one per step.
    func drive(_ url: String, _ steps: [[String: Any]]) async throws -> [Any] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let driver = root.appendingPathComponent("scripts/agents/page-driver.py").path
        let ran = try await Program.run(
            try TestSettings.agentsPython(), [driver, url], input: try JSONSerialization.data(withJSONObject: steps), within: .seconds(90)
        )
        try #require(ran.succeeded, "the page driver failed: \(ran.errors)")
        return try #require(try JSONSerialization.jsonObject(with: Data(ran.output.utf8)) as? [Any], "\(ran.output)")
    }

    /// The page's state, as a JavaScript expression for the driver.
    static let state = "JSON.parse(document.getElementById('state').textContent || '{}')"

    @Test func aBadKeyIsShownAndAGoodOneListsChartsAndZoomsTheSeries() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, withBridge: true, requireKeys: true)
            let key = try await stack.createKey(name: "chart page", rights: "default:rw")
            try await stack.waitUntilIngestKnows(key)
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            var sent: [Posted] = [Posted(tag: "chart-other", time: now, values: [1])]
            for index in 0..<60 {
                let time: Int64 = now - Int64(600 - 10 * index) * 1_000_000_000
                let values: [Double] = [Double(index) + 0.5, Double(index % 7)]
                sent.append(Posted(tag: "chart-k", time: time, values: values))
            }
            let posted = try await HTTP.send("POST", stack.ingestURL + "/save", body: Posted.array(sent), credentials: .bearer(key))
            #expect(posted.status == 202, "\(posted.text)")
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let reply = try await HTTP.send(
                    "POST", stack.bridgeURL + "/v1/window", body: Data(#"{"tag":"chart-k","start_time_ms":-900000}"#.utf8), credentials: .bearer(key)
                )
                if reply.status == 200, reply.text.contains("59.5") { break }
                try await Task.sleep(for: .milliseconds(100))
            }

            let state = Self.state
            let results = try await drive(
                stack.bridgeURL + "/?domain=default&series=chart-k&window=900000",
                [
                    ["wait": "(\(state).errors || []).some((e) => e.includes('401') && e.includes('no credentials'))"],
                    ["type": ["#key", key.keyID + ".not-its-secret"]],
                    ["wait": "(\(state).errors || []).some((e) => e.includes('401') && e.includes('not valid'))"],
                    ["eval": "document.getElementById('status').className"],
                    ["type": ["#key", key.token]],
                    ["wait": "(\(state).series['chart-k'] || {plotted: []}).plotted.length > 0 && document.querySelectorAll('#series option').length >= 2"],
                    ["eval": "Array.from(document.querySelectorAll('#series option')).map((o) => o.value + (o.selected ? '*' : ''))"],
                    ["eval": "JSON.stringify(\(state).series['chart-k'])"],
                    // Five restarts at once (the values selector flicked), then four seconds: one chart refreshing
                    // once a second, however many refreshes were in flight when it restarted.
                    [
                        "eval": """
                        (() => { const f = document.getElementById('fn');
                                 for (let i = 0; i < 5; i++) { f.value = i % 2 ? 'max' : 'asof'; f.dispatchEvent(new Event('change')); }
                                 return window.sluiceChart.asked; })()
                        """
                    ],
                    ["eval": "new Promise((done) => setTimeout(() => done(window.sluiceChart.asked), 4000))"],
                    // Drag across the middle of the plot: that range is fetched anew.
                    [
                        "drag": """
                        (() => { const r = document.querySelector('.plot').getBoundingClientRect();
                                 return [r.x + r.width * 0.3, r.y + r.height / 2, r.x + r.width * 0.7, r.y + r.height / 2]; })()
                        """
                    ],
                    [
                        "wait":
                            "(() => { const s = \(state); return s.range && (s.series['chart-k'] || {plotted: []}).plotted.length > 0 && JSON.stringify(s); })()"
                    ],
                ]
            )
            #expect(results.count == 12)
            #expect(results[3] as? String == "error", "a refused key is shown as an error")
            // A new key lists the series again; the linked one stays chosen.
            #expect((results[6] as? [String]).map { Set($0) } == ["chart-k*", "chart-other"], "\(results[6])")
            // In real time the page's clock runs: how long drawing took is on record (the figure is the benchmark's).
            let live = try #require(try JSONSerialization.jsonObject(with: Data(((results[7] as? String) ?? "{}").utf8)) as? [String: Any])
            #expect(live["render_ms"] is NSNumber, "\(live)")

            let asked = ((results[9] as? NSNumber)?.intValue ?? 0) - ((results[8] as? NSNumber)?.intValue ?? 0)
            #expect((2...7).contains(asked), "\(asked) window requests in 4 s for one chart refreshed each second")

            let zoomed = try #require(try JSONSerialization.jsonObject(with: Data(((results[11] as? String) ?? "{}").utf8)) as? [String: Any])
            let range = try #require(zoomed["range"] as? [String: Any])
            let start = try #require((range["start"] as? NSNumber)?.int64Value)
            let end = try #require((range["end"] as? NSNumber)?.int64Value)
            let nowMs = now / 1_000_000
            #expect(start > nowMs - 900_000 && end < nowMs + 60_000 && end - start < 700_000, "a part of the 15 minutes: \(range)")
            let plotted = try #require(((zoomed["series"] as? [String: Any])?["chart-k"] as? [String: Any])?["plotted"] as? [[Any]])
            let reply = try await HTTP.send(
                "POST", stack.bridgeURL + "/v1/window", body: Data(#"{"tag":"chart-k","start_time_ms":\#(start),"end_time_ms":\#(end)}"#.utf8),
                credentials: .bearer(key)
            )
            let answer = try #require(try reply.json() as? [String: Any], "\(reply.text)")
            let data = try #require((answer["data"] as? [String: Any])?["chart-k"] as? [[Any]])
            let bridge = data.compactMap { point -> (Int64, [Double])? in
                guard let time = (point[0] as? NSNumber)?.int64Value, let values = point[1] as? [Double] else { return nil }
                return (time, values)
            }
            let shown = plotted.compactMap { row -> (Int64, [Double])? in
                guard let time = (row.first as? NSNumber)?.int64Value else { return nil }
                let values = row.dropFirst().compactMap { ($0 as? NSNumber)?.doubleValue }
                return values.isEmpty ? nil : (time, values)
            }
            #expect(!bridge.isEmpty && shown.map(\.0) == bridge.map(\.0), "the dragged range's points are the bridge's for it")
            #expect(shown.map(\.1) == bridge.map(\.1))
            #expect(shown.allSatisfy { $0.0 >= start && $0.0 <= end })
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
