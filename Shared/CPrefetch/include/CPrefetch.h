#ifndef SLUICE_CPREFETCH_H
#define SLUICE_CPREFETCH_H

/// Asks the CPU to start loading the cache line at `address` for reading, without waiting for it and
/// without faulting whatever the address. Swift has no spelling for this; loops that visit memory in an
/// order known ahead (the writer's rollup passes) issue it a few steps early so misses overlap.
static inline void sluice_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
