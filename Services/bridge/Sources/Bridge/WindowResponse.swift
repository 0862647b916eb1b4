import NIOCore
import SluiceModel
import SluiceRuntime

/// Writes seed 000's result shape by hand: a cached window is answered in well under a millisecond,
/// and a generic encoder would be most of that.
///
/// `{"start_time_ms", "end_time_ms", "earliest_result_ms", "latest_result_ms", "resolution_ms",
///   "metadata": {tag: {"domain", "tag", "values"}}, "data": {tag: [[ms, [values…]], …]},
///   "missing_timestamps": [ms, …]}`
///
/// Points where the series has no measurement yet are left out of `data`, as in seed 000; points the
/// bridge could not fill are listed in `missing_timestamps`.
enum WindowResponse {
    static func body(for request: WindowRequest, slots: [(series: SeriesKey, first: Int64, slots: [GridSlot])]) -> ByteBuffer {
        let resolution = request.resolutionMilliseconds
        var earliest = Int64.max
        var latest = Int64.min
        var missing = Set<Int64>()
        var data = ByteBuffer()
        var metadata = ByteBuffer()
        data.reserveCapacity(64 + slots.reduce(0) { $0 + $1.slots.count } * 200)
        for (position, entry) in slots.enumerated() {
            let name = JSONText.quoted(entry.series.tag)
            if position > 0 {
                data.writeInteger(UInt8(ascii: ","))
                metadata.writeInteger(UInt8(ascii: ","))
            }
            data.writeString(name)
            data.writeString(":[")
            var valueCount = 0
            var wrote = false
            for (offset, slot) in entry.slots.enumerated() {
                let time = (entry.first + Int64(offset)) * resolution
                guard case .filled(let point) = slot else {
                    missing.insert(time)
                    continue
                }
                guard let point else { continue }
                assert(point.timeMilliseconds == time, "a slot's point is stamped with the slot's time")
                earliest = min(earliest, time)
                latest = max(latest, time)
                valueCount = point.count
                if wrote {
                    data.writeBytes(point.json)
                } else {
                    data.writeBytes(point.json.dropFirst())
                }
                wrote = true
            }
            data.writeInteger(UInt8(ascii: "]"))
            metadata.writeString(#"\#(name):{"domain":\#(JSONText.quoted(entry.series.domain)),"tag":\#(name),"values":\#(valueCount)}"#)
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.readableBytes + metadata.readableBytes + 256 + missing.count * 15)
        buffer.writeString(#"{"start_time_ms":\#(request.startMilliseconds),"end_time_ms":\#(request.endMilliseconds)"#)
        buffer.writeString(#","earliest_result_ms":\#(earliest == .max ? "null" : String(earliest))"#)
        buffer.writeString(#","latest_result_ms":\#(latest == .min ? "null" : String(latest))"#)
        buffer.writeString(#","resolution_ms":\#(resolution)"#)
        if let function = request.function { buffer.writeString(#","fn":"\#(function.rawValue)""#) }
        buffer.writeString(#","metadata":{"#)
        buffer.writeBuffer(&metadata)
        buffer.writeString(#"},"data":{"#)
        buffer.writeBuffer(&data)
        buffer.writeString(#"},"missing_timestamps":["#)
        buffer.writeString(missing.sorted().map(String.init).joined(separator: ","))
        buffer.writeString("]}")
        return buffer
    }
}
