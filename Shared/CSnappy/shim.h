// Google's snappy through its C interface (Debian's libsnappy-dev): Prometheus remote write bodies are
// snappy block-compressed.
#include <snappy-c.h>
