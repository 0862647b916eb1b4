import NIOCore
import SluiceModel
import SluiceRuntime
import SluiceStorage

/// Writes `/api`'s answers by hand — 1000 samples of 10 values each is the hot path of every call:
/// seed 003's shape, `{"tagName", "start", "end", "samples": [{"time", "values"}]}`, and for an aggregate
/// the same with `fn`, `step`, `fill` and `source` (the rollup tier the closed buckets were read from, or
/// `raw`), one sample per bucket labelled by its start.
public enum SampleResponse {
    public static func body(for request: SampleRequest, samples: [Sample]) -> ByteBuffer {
        var buffer = opening(for: request, capacity: 64 + samples.count * 220)
        buffer.writeString(#","samples":["#)
        for (index, sample) in samples.enumerated() {
            let measuredAt = request.includesMeasuredAt ? sample.measuredAt : nil
            write(time: sample.time, measuredAt: measuredAt, values: sample.values, after: index > 0, to: &buffer)
        }
        buffer.writeString("]}")
        return buffer
    }

    /// A value index without a value (a `linear` fill between rows of different lengths) is `null`.
    public static func body(
        for request: SampleRequest, aggregate: SampleRequest.Aggregate, tier: RollupTier?, buckets: [(time: Int64, values: [Double?]?)]
    ) -> ByteBuffer {
        var buffer = opening(for: request, capacity: 96 + buckets.count * 200)
        buffer.writeString(
            #","fn":"\#(aggregate.function.rawValue)","step":\#(aggregate.buckets.step),"fill":"\#(aggregate.fill.rawValue)","source":"\#(tier?.name ?? "raw")","samples":["#
        )
        for (index, bucket) in buckets.enumerated() {
            write(time: bucket.time, measuredAt: nil, values: bucket.values, after: index > 0, to: &buffer)
        }
        buffer.writeString("]}")
        return buffer
    }

    /// `{"tagName", ["domain",] "start", "end"`: how every `/api` answer begins, as-of or aggregate.
    private static func opening(for request: SampleRequest, capacity: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(capacity)
        buffer.writeString(#"{"tagName":"#)
        buffer.writeString(JSONText.quoted(request.series.tag))
        if request.series.domain != Measurement.defaultDomain {
            buffer.writeString(#","domain":"#)
            buffer.writeString(JSONText.quoted(request.series.domain))
        }
        buffer.writeString(#","start":\#(request.start),"end":\#(request.end)"#)
        return buffer
    }

    /// The longest text of a value: a double's shortest round-trip text, `-2.2250738585072014e-308`.
    private static let longestValue = 24

    /// `{"time":…[,"measuredAt":…],"values":[…] or null}`, after a comma unless it is the first.
    private static func write<Value: SampleValue>(time: Int64, measuredAt: Int64?, values: [Value]?, after: Bool, to buffer: inout ByteBuffer) {
        if after { buffer.writeInteger(UInt8(ascii: ",")) }
        buffer.writeString(#"{"time":\#(time)"#)
        if let measuredAt { buffer.writeString(#","measuredAt":\#(measuredAt)"#) }
        buffer.writeString(#","values":"#)
        if let values {
            // The whole array in one write into the buffer's spare room, not two writes a value (each
            // through NIO's bounds and exclusivity checks): a value's text is at most `longestValue` bytes.
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 2 + values.count * (longestValue + 1)) { room in
                room[0] = UInt8(ascii: "[")
                var end = 1
                for (position, value) in values.enumerated() {
                    if position > 0 {
                        room[end] = UInt8(ascii: ",")
                        end += 1
                    }
                    var text = value.jsonText
                    text.withUTF8 { utf8 in
                        precondition(utf8.count <= longestValue, "a value's text is longer than any double's")
                        UnsafeMutableRawBufferPointer(rebasing: room[end...]).copyMemory(from: UnsafeRawBufferPointer(utf8))
                        end += utf8.count
                    }
                }
                room[end] = UInt8(ascii: "]")
                return end + 1
            }
        } else {
            buffer.writeString("null")
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }
}

/// A value as `/api` writes it: a number, or `null` for a value index without one.
private protocol SampleValue {
    var jsonText: String { get }
}

extension Double: SampleValue {
    fileprivate var jsonText: String { JSONText.number(self) }
}

extension Optional: SampleValue where Wrapped == Double {
    fileprivate var jsonText: String { map(JSONText.number) ?? "null" }
}
