import NIOCore
import SluiceModel
import SluiceRuntime
import SluiceStorage

/// `/api`'s answer for an aggregate: the as-of shape, plus `fn`, `step`, `fill` and `source` (the rollup
/// tier the closed buckets were read from, or `raw`), one sample per bucket
/// labelled by its start; a value index without a value (a `linear` fill between rows of different
/// lengths) is `null`.
public enum AggregateResponse {
    public static func body(for request: SampleRequest, grid: BucketGrid, tier: RollupTier?, buckets: [(time: Int64, values: [Double?]?)]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(96 + buckets.count * 200)
        SampleResponse.writeOpening(for: request, to: &buffer)
        buffer.writeString(
            #","fn":"\#(request.function.rawValue)","step":\#(grid.step),"fill":"\#(request.fill.rawValue)","source":"\#(tier?.name ?? "raw")","samples":["#)
        for (index, bucket) in buckets.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeString(#"{"time":\#(bucket.time),"values":"#)
            if let values = bucket.values {
                buffer.writeInteger(UInt8(ascii: "["))
                for (position, value) in values.enumerated() {
                    if position > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                    buffer.writeString(value.map(JSONText.number) ?? "null")
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
}
