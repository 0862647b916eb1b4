import SluiceFormats
import SluiceModel
import Testing

/// InfluxDB line protocol, read as InfluxDB documents it, and mapped to Sluice series.
@Suite struct LineProtocolTests {
    func points(_ text: String) throws -> [LineProtocol.Point] {
        try LineProtocol.parse(Array(text.utf8)).get()
    }

    func problems(_ text: String) -> [String] {
        switch LineProtocol.parse(Array(text.utf8)) {
        case .success: []
        case .failure(let refusal): refusal.problems.map(\.description)
        }
    }

    @Test func readsEveryPartOfALine() throws {
        let read = try points("cpu,host=a,region=eu-west usage=0.5,idle=12i,count=7u,up=t,name=\"x\" 1700000000000000000\n")
        #expect(read.count == 1)
        let point = try #require(read.first)
        #expect(point.measurement == "cpu")
        #expect(point.tags.map(\.key) == ["host", "region"] && point.tags.map(\.value) == ["a", "eu-west"])
        #expect(point.fields.map(\.key) == ["usage", "idle", "count", "up", "name"])
        #expect(point.fields.map(\.value) == [.float(0.5), .integer(12), .unsigned(7), .boolean(true), .string("x")])
        #expect(point.timestamp == 1_700_000_000_000_000_000)
    }

    @Test func followsInfluxDBsEscapingRules() throws {
        let read = try points(#"we\,ird\ name,ta\ g\=k=v\,al\=ue f\=ie\,ld\ 1=1,s="say \"hi\" \\ there" 5"#)
        let point = try #require(read.first)
        #expect(point.measurement == "we,ird name")
        #expect(point.tags.first?.key == "ta g=k" && point.tags.first?.value == "v,al=ue")
        #expect(point.fields.map(\.key) == ["f=ie,ld 1", "s"])
        #expect(point.fields.last?.value == .string(#"say "hi" \ there"#))
        // A backslash before anything else is kept; two are one.
        #expect(try points(#"a\b,t=c\\d v=1"#).first?.measurement == #"a\b"#)
        #expect(try points(#"a\b,t=c\\d v=1"#).first?.tags.first?.value == #"c\d"#)
    }

    @Test func skipsCommentsAndBlankLinesAndNumbersLinesForErrors() throws {
        let read = try points("# header\n\n  \r\nm v=1\r\n\tm v=2 3\n")
        #expect(read.map(\.line) == [4, 5])
        #expect(read.map(\.timestamp) == [nil, 3])
        #expect(
            problems("m v=1\nm v=\nm\n# ok\nm v=1 12x") == [
                "line 2: field \"v\" has value \"\": not a float, integer (12i), unsigned (12u), boolean or quoted string",
                "line 3: no field set after the measurement",
                "line 5: timestamp \"12x\" is not an integer",
            ])
    }

    @Test(arguments: [
        ("m,t v=1", "tag \"t\" has no '=' and value"), ("m,=x v=1", "tag key is missing"), ("m,t= v=1", "value of tag \"t\" is missing"),
        (",t=x v=1", "measurement is missing"), ("m v", "field \"v\" has no '=' and value"), ("m v=nan", "not a float"),
        ("m v=inf", "not a float"), ("m v=0x10", "not a float"), ("m v=1.5i", "not a float"), ("m v=-1u", "not a float"),
        ("m v=99999999999999999999i", "not a float"), ("m v=\"open", "has no closing quote"), ("m v=1 2 3", "unexpected '3'"),
    ])
    func refusesWhatInfluxDBRefuses(line: String, reason: String) {
        let found = problems(line)
        #expect(found.count == 1 && found[0].contains(reason), "\(line): \(found)")
    }

    @Test func precisionsAreInfluxDBs() {
        #expect(
            ["ns", "n", "us", "u", "ms", "s", "m", "h"].map { LineProtocol.nanosecondsPerUnit(precision: $0) }
                == [1, 1, 1_000, 1_000, 1_000_000, 1_000_000_000, 60_000_000_000, 3_600_000_000_000])
        #expect(LineProtocol.nanosecondsPerUnit(precision: "d") == nil)
    }

    func stored(_ text: String, unit: Int64 = 1, now: Int64 = 42) -> Result<[Measurement], LineProtocol.Refusal> {
        switch LineProtocol.parse(Array(text.utf8)) {
        case .success(let points): LineProtocol.measurements(from: points, domain: "telegraf", unitNanoseconds: unit, now: now)
        case .failure(let refusal): .failure(refusal)
        }
    }

    @Test func eachNumericFieldIsASeriesWithTheTagsAsLabels() throws {
        let measurements = try stored("cpu,host=a,cpu-id=0 usage=0.5,idle=12i,up=false 1700000000\n disk used=3u", unit: 1_000_000_000).get()
        #expect(
            measurements == [
                Measurement(domain: "telegraf", tag: #"cpu.usage{cpu_id="0",host="a"}"#, time: 1_700_000_000_000_000_000, values: [0.5]),
                Measurement(domain: "telegraf", tag: #"cpu.idle{cpu_id="0",host="a"}"#, time: 1_700_000_000_000_000_000, values: [12]),
                Measurement(domain: "telegraf", tag: #"cpu.up{cpu_id="0",host="a"}"#, time: 1_700_000_000_000_000_000, values: [0]),
                Measurement(domain: "telegraf", tag: "disk.used", time: 42, values: [3]),
            ])
        // A field twice in a line: the last one, as InfluxDB keeps.
        #expect(try stored("m v=1,v=2 5").get() == [Measurement(domain: "telegraf", tag: "m.v", time: 5, values: [2])])
    }

    @Test func refusesWhatSluiceCannotStoreNamingTheLine() {
        func reason(_ text: String) -> String {
            if case .failure(let refusal) = stored(text) { return refusal.description }
            return "stored"
        }
        #expect(reason("m v=1\nm s=\"text\"").contains("line 2: field \"s\" is a string; Sluice stores numbers only"))
        #expect(reason("m,a-b=1,a_b=2 v=1").contains("tags \"a-b\" and \"a_b\" both become label a_b"))
        #expect(reason("m v=1 -5").contains("time is negative"))
        #expect(reason("m v=1 9223372036854775807").contains("after 2262"))
        #expect(reason("m v=1 9223372036854775").contains("stored"))
        if case .failure(let refusal) = stored("m v=1 9223372036854775", unit: 1_000_000_000) {
            #expect(refusal.description.contains("out of range for its precision"))
        } else {
            Issue.record("a timestamp that overflows in its precision was stored")
        }
        #expect(reason("m{x} v=1").contains("reserves for labels"))
    }
}
