// SwiftPM builds a C target only from at least one source file; everything is inline in the header.
#include "CPrefetch.h"
