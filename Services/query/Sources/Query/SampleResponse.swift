import NIOCore
import SluiceModel
import SluiceRuntime

/// Writes seed 003's response shape, `{"tagName", "start", "end", "samples": [{"time", "values"}]}`,
/// by hand: 1000 samples of 10 values each is the hot path of every `/api` call.
public enum SampleResponse {
    public static func body(for request: SampleRequest, samples: [Sample]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(64 + samples.count * 220)
        writeOpening(for: request, to: &buffer)
        buffer.writeString(#","samples":["#)
        for (index, sample) in samples.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeString(#"{"time":\#(sample.time)"#)
            if request.includesMeasuredAt, let measuredAt = sample.measuredAt {
                buffer.writeString(#","measuredAt":\#(measuredAt)"#)
            }
            buffer.writeString(#","values":"#)
            if let values = sample.values {
                buffer.writeInteger(UInt8(ascii: "["))
                for (position, value) in values.enumerated() {
                    if position > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                    buffer.writeString(JSONText.number(value))
                }
                buffer.writeInteger(UInt8(ascii: "]"))
            } else {
                buffer.writeString("null")
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        buffer.writeString("]}")
        return buffer
    }

    /// `{"tagName", ["domain",] "start", "end"`: how every `/api` answer begins, as-of or aggregate.
    static func writeOpening(for request: SampleRequest, to buffer: inout ByteBuffer) {
        buffer.writeString(#"{"tagName":"#)
        buffer.writeString(JSONText.quoted(request.series.tag))
        if request.series.domain != Measurement.defaultDomain {
            buffer.writeString(#","domain":"#)
            buffer.writeString(JSONText.quoted(request.series.domain))
        }
        buffer.writeString(#","start":\#(request.grid.start),"end":\#(request.grid.end)"#)
    }
}
