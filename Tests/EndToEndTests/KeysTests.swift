import Foundation
import PostgresNIO
import SluiceSigning
import SluiceTestSupport
import Testing

/// `SLUICE_AUTH=required` with the real processes: every refusal and its reason, rights per domain,
/// revocation and rotation reaching every service, replay, tampering and the per-key rate.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct KeysTests {
    /// The three data endpoints, each asked for `domain`'s series `tag`.
    struct Endpoints {
        let stack: SluiceStack

        func save(_ credentials: HTTP.Credentials, domain: String = "acme", tag: String = "k-cpu", time: Int64 = nowNanoseconds()) async throws -> HTTP.Reply {
            let body = #"{"domain":"\#(domain)","tag":"\#(tag)","time":\#(time),"values":[1]}"#
            return try await HTTP.send("POST", stack.ingestURL + "/save", body: Data(body.utf8), credentials: credentials)
        }

        func query(_ credentials: HTTP.Credentials, domain: String = "acme", tag: String = "k-cpu") async throws -> HTTP.Reply {
            try await HTTP.send("GET", stack.queryURL + "/api?domain=\(domain)&tag=\(tag)&start=-600000000000&samples=3", credentials: credentials)
        }

        func window(_ credentials: HTTP.Credentials, domain: String = "acme", tag: String = "k-cpu") async throws -> HTTP.Reply {
            let body = #"{"domain":"\#(domain)","tag":"\#(tag)","start_time_ms":-60000}"#
            return try await HTTP.send("POST", stack.bridgeURL + "/v1/window", body: Data(body.utf8), credentials: credentials)
        }

        /// The status of each endpoint, in the order ingest, query, bridge.
        func statuses(_ credentials: HTTP.Credentials) async throws -> [Int] {
            [try await save(credentials).status, try await query(credentials).status, try await window(credentials).status]
        }
    }

    static func reason(_ reply: HTTP.Reply) -> String? {
        (try? reply.json() as? [String: Any])?["reason"] as? String
    }

    @Test func everyRefusalSaysWhyAndRightsAreKeptPerDomain() async throws {
        try await TestDatabase.with { database, client in
            let stack = try await SluiceStack(database: database, withBridge: true, requireKeys: true)
            let endpoints = Endpoints(stack: stack)
            let acme = try await stack.createKey(name: "acme agent", rights: "acme:rw")
            let other = try await stack.createKey(name: "other agent", rights: "other:rw")
            // A new key works on its first request, on every service: each reads the keys again for an id
            // it lacks, instead of refusing it until its next timed read.
            #expect(try await endpoints.save(.bearer(acme)).status == 202)
            #expect(try await endpoints.query(.bearer(acme)).status != 401)
            #expect(try await endpoints.window(.bearer(acme)).status != 401)
            try await waitUntil(within: .seconds(5)) { try await endpoints.statuses(.bearer(acme)) == [202, 200, 200] }
            #expect(try await endpoints.save(.bearer(other), domain: "other", tag: "secret-tag").status == 202)

            // 401 with its reason and WWW-Authenticate, on every service; /health and /metrics stay open.
            for (credentials, expected) in [
                (HTTP.Credentials.none, "missing"),
                (.header("Bearer no-dot-here"), "malformed"),
                (.header("SLUICE-HMAC-SHA256 Credential=X"), "malformed"),
                (.bearer(KeyCredentials(keyID: acme.keyID, secret: "wrong")), "invalid_credentials"),
                (.bearer(KeyCredentials(keyID: "NOSUCHKEY", secret: acme.secret)), "invalid_credentials"),
                (.signed(acme, date: Int64(Date().timeIntervalSince1970) - 400), "stale_date"),
            ] {
                for reply in [try await endpoints.save(credentials), try await endpoints.query(credentials), try await endpoints.window(credentials)] {
                    #expect(reply.status == 401, "\(expected): \(reply.text)")
                    #expect(Self.reason(reply) == expected, "\(reply.text)")
                    #expect(reply.headers["www-authenticate"]?.contains("SLUICE-HMAC-SHA256") == true)
                }
            }
            for url in [stack.ingestURL, stack.queryURL, stack.bridgeURL] {
                #expect(try await HTTP.get(url + "/health").status == 200)
                #expect(try await HTTP.get(url + "/metrics").status == 200)
            }
            #expect(try await HTTP.metric(stack.ingestURL, #"sluice_auth_failures_total{reason="missing"}"#) ?? 0 >= 1)

            // Signed requests: accepted once; a replay, or a body changed after signing, is refused.
            let time = nowNanoseconds()
            let body = Data(#"{"domain":"acme","tag":"k-signed","time":\#(time),"values":[2]}"#.utf8)
            let date = Int64(Date().timeIntervalSince1970)
            #expect(try await HTTP.send("POST", stack.ingestURL + "/save", body: body, credentials: .signed(acme, date: date)).status == 202)
            let replay = try await HTTP.send("POST", stack.ingestURL + "/save", body: body, credentials: .signed(acme, date: date))
            #expect(replay.status == 401 && Self.reason(replay) == "replay", "\(replay.text)")
            let signedHeaders = RequestSignature.headers(credentials: acme, method: "POST", path: "/save", body: Array(body), date: date + 1)
            let tampered = try await HTTP.send(
                "POST", stack.ingestURL + "/save", body: Data(#"{"domain":"acme","tag":"k-signed","time":\#(time + 1),"values":[666]}"#.utf8),
                credentials: .header(signedHeaders.authorization), extraHeaders: [RequestSignature.dateHeader: signedHeaders.date]
            )
            #expect(tampered.status == 401 && Self.reason(tampered) == "invalid_credentials", "\(tampered.text)")
            // Signed reads: a GET with a query string, and the bridge's POST.
            try await waitUntil(within: .seconds(5)) { try await endpoints.query(.signed(acme), tag: "k-signed").status == 200 }
            try await waitUntil(within: .seconds(5)) { try await endpoints.window(.signed(acme), tag: "k-signed").status == 200 }

            // The README's Python client (docs/examples/sluice_sign.py), an implementation of the scheme apart from ours.
            let posted = try await Self.python(
                ["POST", stack.ingestURL + "/save", "-"], key: acme, input: #"{"domain":"acme","tag":"k-python","time":\#(time),"values":[3]}"#
            )
            #expect(posted.hasPrefix("202 "), "\(posted)")
            try await waitUntil(within: .seconds(5)) {
                try await Self.python(["GET", stack.queryURL + "/api", "domain=acme", "tag=k-python", "start=-600000000000", "samples=2"], key: acme).hasPrefix(
                    "200 ")
            }
            let refused = try await Self.python(
                ["GET", stack.queryURL + "/api", "domain=other", "tag=k-python", "start=-600000000000", "samples=2"], key: acme)
            #expect(refused.hasPrefix("403 "), "\(refused)")

            // 403: one message for a domain the key cannot write refuses the whole batch of 100.
            var batch = (0..<99).map { #"{"domain":"acme","tag":"k-batch","time":\#(time + Int64($0)),"values":[1]}"# }
            batch.insert(#"{"domain":"other","tag":"k-batch","time":\#(time),"values":[1]}"#, at: 50)
            let forbidden = try await HTTP.send(
                "POST", stack.ingestURL + "/save", body: Data(("[" + batch.joined(separator: ",") + "]").utf8), credentials: .bearer(acme))
            #expect(forbidden.status == 403, "\(forbidden.text)")
            // Reads of another domain are 403 whether its tag exists or not: no probing names.
            for tag in ["secret-tag", "never-stored"] {
                #expect(try await endpoints.query(.bearer(acme), domain: "other", tag: tag).status == 403)
                #expect(try await endpoints.window(.bearer(acme), domain: "other", tag: tag).status == 403)
            }
            #expect(try await endpoints.query(.bearer(other), domain: "other", tag: "secret-tag").status == 200)
            // Nothing of the refused batch was stored: a later marker is, and the batch's series is not.
            #expect(try await endpoints.save(.bearer(acme), tag: "k-marker").status == 202)
            try await waitUntil(within: .seconds(10)) { try await endpoints.query(.bearer(acme), tag: "k-marker").status == 200 }
            var batchRows = -1
            for try await count in try await client.query("select count(*) from series where tag = 'k-batch'").decode(Int.self) { batchRows = count }
            #expect(batchRows == 0)

            // Rotation: the old secret stops working on every service within 5 s; the new one works.
            let rotated = try SluiceStack.issuedKey(try await stack.admin(["keys", "rotate", other.keyID]))
            #expect(rotated.keyID == other.keyID && rotated.secret != other.secret)
            let rotatedIn = try await waitUntil(within: .seconds(5)) {
                try await [
                    endpoints.save(.bearer(other), domain: "other"), endpoints.query(.bearer(other), domain: "other", tag: "secret-tag"),
                    endpoints.window(.bearer(other), domain: "other", tag: "secret-tag"),
                ].allSatisfy { $0.status == 401 }
            }
            #expect(try await endpoints.query(.bearer(rotated), domain: "other", tag: "secret-tag").status == 200)

            // Revocation: refused by every service within 5 s, and the holder is told why.
            let revoke = try await stack.admin(["keys", "revoke", acme.keyID])
            #expect(revoke.status == 0 && revoke.output.contains(#""state":"revoked""#), "\(revoke)")
            let revokedIn = try await waitUntil(within: .seconds(5)) { try await endpoints.statuses(.bearer(acme)) == [401, 401, 401] }
            #expect(Self.reason(try await endpoints.query(.bearer(acme))) == "revoked")
            print("rotation took effect everywhere in \(rotatedIn), revocation in \(revokedIn)")

            let listed = try await stack.admin(["keys", "list"])
            #expect(listed.status == 0 && listed.output.split(separator: "\n").count == 3 && !listed.output.contains("secret"), "\(listed)")
            let badRights = try await stack.admin(["keys", "create", "--name", "x", "--rights", "acme:x"])
            #expect(badRights.status != 0 && badRights.errors.contains("'x' is not a permission"), "\(badRights)")
            let unknown = try await stack.admin(["keys", "revoke", "NOSUCHKEY"])
            #expect(unknown.status != 0 && unknown.errors.contains("there is no key NOSUCHKEY"), "\(unknown)")
            let statuses = await stack.stop()
            #expect(statuses.values.allSatisfy { $0 == 0 }, "\(statuses)")
        }
    }

    @Test func aKeyOverItsRateIsToldToWait() async throws {
        try await TestDatabase.with { database, _ in
            let stack = try await SluiceStack(database: database, requireKeys: true, extraEnvironment: ["SLUICE_AUTH_RATE_PER_KEY": "20"])
            let key = try #require(stack.adminKey)
            var limited: HTTP.Reply?
            for _ in 0..<100 where limited == nil {
                let reply = try await HTTP.send("GET", stack.queryURL + "/api?tag=nothing&start=-600000000000&samples=1", credentials: .bearer(key))
                if reply.status == 429 { limited = reply }
            }
            let reply = try #require(limited, "100 requests at once never met the rate of 20 a second")
            #expect(reply.headers["retry-after"].flatMap(Int.init) ?? 0 >= 1)
            #expect(reply.text.contains("SLUICE_AUTH_RATE_PER_KEY"))
            // Another key is not held back by the first one's rate.
            let other = try await stack.createKey(name: "other", rights: "*:r")
            try await waitUntil(within: .seconds(5)) {
                try await HTTP.send("GET", stack.queryURL + "/api?tag=nothing&start=-600000000000&samples=1", credentials: .bearer(other)).status == 404
            }
            await stack.stop()
        }
    }

    /// Runs docs/examples/sluice_sign.py with `arguments` and the key in its environment.
    /// - Returns: what it printed: the status, a space, the body.
    static func python(_ arguments: [String], key: KeyCredentials, input: String = "") async throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let ran = try await Program.run(
            "/usr/bin/env", ["python3", root.appendingPathComponent("docs/examples/sluice_sign.py").path] + arguments,
            environment: ["SLUICE_KEY_ID": key.keyID, "SLUICE_KEY_SECRET": key.secret], input: Data(input.utf8), within: .seconds(60)
        )
        return ran.output
    }

    struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    /// Polls `condition` every 100 ms until it holds.
    /// - Returns: how long that took.
    @discardableResult
    func waitUntil(within limit: Duration, _ condition: () async throws -> Bool) async throws -> Duration {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try await condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TimedOut(description: "the condition did not hold within \(limit)")
    }
}
