import AsyncHTTPClient
import Foundation
import LoadGen
import NIOCore
import SluiceFormats
import SwiftProtobuf

/// The systems compared, each written to in its own native format: Sluice's JSON `/save`, InfluxDB's line
/// protocol (measurement `sluice`, tag `tag`, fields `v1`…`v10`), Prometheus remote write (series
/// `sluice{tag="…", value="v1"}`…`v10`, one per value, as Prometheus keeps one value per series).
enum PeerSystem: String, CaseIterable, Sendable {
    case sluice, influx, prometheus
}

/// One request's body, for one system.
struct PeerWrite: Sendable {
    var path: String
    var contentType: String
    var contentEncoding: String?
    var body: ByteBuffer

    func request(to baseURL: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: contentType)
        if let contentEncoding { request.headers.add(name: "content-encoding", value: contentEncoding) }
        request.body = .bytes(body)
        return request
    }
}

/// Encodes batches of messages for one system. Prometheus stamps samples in milliseconds and refuses a
/// second sample of a series at the same millisecond, so a tag's messages that share one are moved a
/// millisecond on (the only change any system sees to the data).
struct PeerEncoder: Sendable {
    let system: PeerSystem
    /// Where InfluxDB keeps the points.
    static let influxDatabase = "peers"
    private var lastMillisecond: [String: Int64] = [:]

    init(system: PeerSystem) {
        self.system = system
    }

    mutating func encode(_ messages: [MessageSource.Message]) -> PeerWrite {
        switch system {
        case .sluice:
            return PeerWrite(path: "/save", contentType: "application/json", body: ProducerRun.body(for: messages, format: .array))
        case .influx:
            var text = ""
            text.reserveCapacity(messages.count * 230)
            for message in messages {
                text += "sluice,tag=\(message.tag) "
                for (index, value) in message.values.enumerated() {
                    text += index == 0 ? "v1=" : ",v\(index + 1)="
                    text += value.description
                }
                text += " \(message.time)\n"
            }
            return PeerWrite(path: "/write?db=\(Self.influxDatabase)&precision=ns", contentType: "text/plain", body: ByteBuffer(string: text))
        case .prometheus:
            return PeerWrite(
                path: "/api/v1/write", contentType: "application/x-protobuf", contentEncoding: "snappy",
                body: ByteBuffer(bytes: Snappy.compress(remoteWrite(messages))))
        }
    }

    private mutating func remoteWrite(_ messages: [MessageSource.Message]) -> [UInt8] {
        // One series per (tag, value index), samples in the order given.
        var series: [String: [Prometheus_TimeSeries]] = [:]
        var order: [String] = []
        for message in messages {
            var millisecond = message.time / 1_000_000
            if let last = lastMillisecond[message.tag], millisecond <= last { millisecond = last + 1 }
            lastMillisecond[message.tag] = millisecond
            if series[message.tag] == nil {
                order.append(message.tag)
                series[message.tag] = (0..<message.values.count).map { index in
                    var entry = Prometheus_TimeSeries()
                    entry.labels = [Self.label("__name__", "sluice"), Self.label("tag", message.tag), Self.label("value", "v\(index + 1)")]
                    return entry
                }
            }
            for (index, value) in message.values.enumerated() where index < series[message.tag]?.count ?? 0 {
                var sample = Prometheus_Sample()
                sample.value = value
                sample.timestamp = millisecond
                series[message.tag]?[index].samples.append(sample)
            }
        }
        var request = Prometheus_WriteRequest()
        request.timeseries = order.flatMap { series[$0] ?? [] }
        return (try? request.serializedBytes()) ?? []
    }

    private static func label(_ name: String, _ value: String) -> Prometheus_Label {
        var label = Prometheus_Label()
        label.name = name
        label.value = value
        return label
    }
}
