import NIOCore
import SluiceFormats
import SluiceModel
import Testing

@testable import Ingest

/// Graphite's plaintext lines, and how a TCP stream is cut into them.
@Suite struct GraphiteTests {
    func read(_ line: String, now: Int64 = 7) -> Result<Measurement, Graphite.Problem> {
        Graphite.measurement(line: Substring(line), domain: "metrics", now: now)
    }

    @Test func readsPathValueAndTimestamp() throws {
        #expect(
            try read("collectd.web1.cpu-0.cpu-idle 97.5 1700000000").get()
                == Measurement(domain: "metrics", tag: "collectd.web1.cpu-0.cpu-idle", time: 1_700_000_000_000_000_000, values: [97.5]))
        // Fractions of a second, digit by digit; -1 is now; tabs and runs of spaces separate.
        #expect(try read("a.b\t-2e3   1700000000.000000123456").get().time == 1_700_000_000_000_000_123)
        #expect(try read("a.b 1 1700000000.25").get().time == 1_700_000_000_250_000_000)
        #expect(try read("a.b 1 -1").get().time == 7)
        // Graphite 1.1 tags are labels.
        #expect(try read("disk.used;host=web1;mount-point=/var 12 1700000000").get().tag == #"disk.used{host="web1",mount_point="/var"}"#)
    }

    @Test(arguments: [
        ("a.b 1", "expected '<path> <value> <timestamp>'"), ("a.b 1 2 3", "got 4 fields"), ("a.b x 1700000000", "not a finite number"),
        ("a.b nan 1700000000", "not a finite number"), ("a.b inf 1700000000", "not a finite number"), ("a.b 0x10 1700000000", "not a finite number"),
        ("a.b 1 17e8", "not seconds"), ("a.b 1 99999999999", "not seconds"), ("a.b 1 9223372036.854775808", "not seconds"), ("a.b 1 1.", "not seconds"),
        ("a.b 1 -5", "not seconds"), ("a;host 1 1", "not name=value"),
        ("a;=x 1 1", "not name=value"), ("a{b} 1 1", "reserves for labels"), ("a;x-y=1;x_y=2 1 1", "both become label x_y"),
    ])
    func refusesWhatItCannotStore(line: String, reason: String) {
        if case .failure(let problem) = read(line) {
            #expect(problem.message.contains(reason), "\(line): \(problem)")
        } else {
            Issue.record("\(line) was read")
        }
    }

    func pieces(_ chunks: [String], max: Int = 16) -> [LineSplitter.Piece] {
        var splitter = LineSplitter(maxLineBytes: max)
        return chunks.flatMap { splitter.feed(ByteBuffer(string: $0)) } + splitter.finish()
    }

    @Test func linesAreWholeHoweverReadsSplitThem() {
        #expect(pieces(["a 1 2\nb 3", " 4\r\n", "c 5 6"]) == [.line(Array("a 1 2".utf8)), .line(Array("b 3 4".utf8)), .line(Array("c 5 6".utf8))])
        #expect(pieces(["\n\n"]) == [.line([]), .line([])])
        // Too long: reported once, skipped to its end, and the next line is whole again.
        #expect(pieces(["0123456789", "0123456789", "012\nok 1 2\n"]) == [.tooLong, .line(Array("ok 1 2".utf8))])
        #expect(pieces(["01234567890123456789"]) == [.tooLong])
    }
}
