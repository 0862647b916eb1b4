// Exposes librdkafka (and its mock cluster, for the local broker) to Swift.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
