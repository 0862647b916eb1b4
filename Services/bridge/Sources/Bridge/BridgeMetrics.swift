import Metrics
import SluiceModel

/// What `/metrics` shows about the cache: how many jobs, how often requests were served from it, how
/// much refreshing it does and what it costs in memory.
struct BridgeMetrics: Sendable {
    let jobsStarted = Counter(label: "sluice_bridge_jobs_started_total")
    let activeJobs = Gauge(label: "sluice_bridge_active_jobs")
    /// A request whose grid points were all filled when it arrived.
    let hits = Counter(label: "sluice_bridge_cache_hits_total")
    /// A request that found unfilled points and had to wait for (or go without) a fill.
    let misses = Counter(label: "sluice_bridge_cache_misses_total")
    let refreshes = Counter(label: "sluice_bridge_refreshes_total")
    let refreshFailures = Counter(label: "sluice_bridge_refresh_failures_total")
    let idleEvictions = Counter(label: "sluice_bridge_evictions_total", dimensions: [("reason", "idle")])
    let memoryEvictions = Counter(label: "sluice_bridge_evictions_total", dimensions: [("reason", "memory")])
    let cacheBytes = Gauge(label: "sluice_bridge_cache_bytes")
    let changesReceived = Counter(label: "sluice_bridge_changes_received_total")
    /// 1 while the change feed is read; at 0 caches are only as fresh as their periodic full refresh.
    let changeFeedReading = Gauge(label: "sluice_bridge_change_feed_reading")
    let unreadableChanges = Counter(label: "sluice_bridge_unreadable_changes_total")
}
