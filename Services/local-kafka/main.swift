// sluice-local-kafka: hosts librdkafka's in-memory mock cluster as a local Kafka-protocol broker.
//
// It speaks the real Kafka protocol (producers, the idempotent producer, consumer groups) but keeps
// everything in memory and only about the newest 5 MB per partition (fixed inside librdkafka), so what
// it can hold for a writer that falls behind grows with the partition count: 16 partitions hold about
// 720k messages of ten values, more than ingest's backlog limit lets in (20,000 per partition); see
// BENCHMARKS.md "Overload". It exists for local runs and tests; deployments use Apache Kafka.
//
// Its CPU goes mostly to one loop: each Fetch finds the message set holding the fetch offset by walking
// the partition's list of sets from the oldest (librdkafka's rdkafka_mock.c, "FIXME: Maintain an index"),
// and answers one set per partition. Many partitions cut each POST into many small sets, which makes the
// lists long and the fetch rounds many: at 64 partitions it cost more CPU than the rest of the pipeline.
// BENCHMARKS.md "The local broker" has the profile and the A/B pairs behind 16.
//
// Environment:
//   SLUICE_LOCAL_KAFKA_TOPICS        topics to create, "name:partitions,..." (default
//                                    "sluice.measurements:16,sluice.changes:8")
//   SLUICE_LOCAL_KAFKA_ADDRESS_FILE  when set, the bootstrap address is also written to this file
// It prints "bootstrap=HOST:PORT" on standard output and runs until SIGTERM or SIGINT.

import CRdKafka
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sluice-local-kafka: \(message)\n".utf8))
    exit(1)
}

func parseTopics(_ spec: String) -> [(name: String, partitions: Int32)] {
    spec.split(separator: ",").map { entry in
        let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, let count = Int32(parts[1]), count > 0, count <= 10_000 else {
            fail("SLUICE_LOCAL_KAFKA_TOPICS entry '\(entry)' must look like name:partitions, with 1–10000 partitions")
        }
        return (parts[0], count)
    }
}

let environment = ProcessInfo.processInfo.environment
let topics = parseTopics(environment["SLUICE_LOCAL_KAFKA_TOPICS"] ?? "sluice.measurements:16,sluice.changes:8")

// Block the stop signals before any librdkafka thread starts, so that only sigwait below receives them.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

guard let conf = rd_kafka_conf_new() else { fail("could not allocate a librdkafka configuration") }
var errorText = [CChar](repeating: 0, count: 512)
_ = rd_kafka_conf_set(conf, "log_level", "3", &errorText, errorText.count)  // the host handle never connects; keep its warnings quiet
// The mock cluster's sockets take this handle's settings. With Nagle's algorithm on, a response written
// in pieces can wait for the client's delayed ACK: at 500 msg/s a POST's acknowledgement took p50 48 ms
// with it and 6 ms without (BENCHMARKS.md "The local broker").
guard rd_kafka_conf_set(conf, "socket.nagle.disable", "true", &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
    fail("could not turn Nagle's algorithm off for the broker's sockets")
}
guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
    fail("could not create the librdkafka handle that hosts the cluster")
}
guard let cluster = rd_kafka_mock_cluster_new(host, 1) else { fail("could not start the mock cluster") }
for topic in topics {
    let error = rd_kafka_mock_topic_create(cluster, topic.name, topic.partitions, 1)
    guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
        fail("could not create topic \(topic.name): \(String(cString: rd_kafka_err2str(error)))")
    }
}
let bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
if let path = environment["SLUICE_LOCAL_KAFKA_ADDRESS_FILE"], !path.isEmpty {
    do {
        try Data((bootstrap + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        fail("could not write the address to \(path): \(error)")
    }
}
print("bootstrap=\(bootstrap)")
print("topics=" + topics.map { "\($0.name):\($0.partitions)" }.joined(separator: ","))
print("note: in-memory broker for local runs and tests; deployments use Apache Kafka")
fflush(nil)

var received: Int32 = 0
sigwait(&stopSignals, &received)
rd_kafka_mock_cluster_destroy(cluster)
rd_kafka_destroy(host)
print("stopped on signal \(received)")
