import SluiceRuntime
import SluiceStorage
import Testing

/// Retention periods as operators write them, how tiers keep at least what the tier below keeps, and the
/// slot arithmetic partitions are named and bounded by.
struct RetentionTests {
    let hour: Int64 = 3_600_000_000_000
    let day: Int64 = 86_400_000_000_000

    @Test func periodsParseAndPrintInTheirShortestForm() throws {
        #expect(try Retention.parse("7d") == 7 * day)
        #expect(try Retention.parse(" 36H ") == 36 * hour)
        #expect(try Retention.parse("90m") == 90 * 60_000_000_000)
        #expect(try Retention.parse("2w") == 14 * day)
        #expect(try Retention.parse("forever") == nil)
        for bad in ["", "7", "d", "-1d", "0d", "1.5d", "7y", "30m", "seven days", "99999999w"] {
            #expect(throws: RetentionError.self, "\(bad)") { try Retention.parse(bad) }
        }
        #expect(Retention.format(14 * day) == "14d")
        #expect(Retention.format(36 * hour) == "36h")
        #expect(Retention.format(90 * 60_000_000_000) == "90m")
        #expect(Retention.format(nil) == "forever")
        for text in ["1h", "25h", "7d", "365d", "forever"] {
            #expect(Retention.format(try Retention.parse(text)) == text)
        }
    }

    @Test func aCoarserTierKeepsAtLeastWhatTheTierBelowKeeps() {
        let retention = Retention(periods: ["raw": 30 * day, "1m": 7 * day, "1h": 400 * day])
        #expect(retention.effective(.raw) == 30 * day)
        #expect(retention.effective(.minute) == 30 * day)
        #expect(retention.effective(.hour) == 400 * day)
        #expect(Retention(periods: ["1m": 7 * day]).effective(.minute) == nil, "raw kept forever: so is everything above it")
        #expect(Retention.defaults.effective(.raw) == 7 * day)
        #expect(Retention.defaults.effective(.minute) == 90 * day)
        #expect(Retention.defaults.effective(.hour) == nil)
        #expect(Retention.defaults.cutoff(.raw, now: 10 * day) == 3 * day)
    }

    @Test func theEnvironmentOverridesTheDefaultsAndNamesABadVariable() throws {
        let retention = try Retention.fromEnvironment(EnvironmentReader(["SLUICE_RETENTION_RAW": "2d", "SLUICE_RETENTION_1H": "3650d"]))
        #expect(retention.periods == ["raw": 2 * day, "1m": 90 * day, "1h": 3650 * day])
        #expect(try Retention.fromEnvironment(EnvironmentReader(["SLUICE_RETENTION_1M": "forever"])).periods["1m"] == nil)
        #expect(throws: ConfigurationError.self) { try Retention.fromEnvironment(EnvironmentReader(["SLUICE_RETENTION_1M": "ninety"])) }
        do {
            _ = try Retention.fromEnvironment(EnvironmentReader(["SLUICE_RETENTION_1M": "ninety"]))
        } catch {
            #expect(error.variable == "SLUICE_RETENTION_1M")
        }
    }

    @Test func slotsAlignToTheirWidthSinceTheEpochOnBothSidesOfIt() {
        let raw = TimePartitionedTable.raw
        #expect(raw.slotStart(of: 0) == 0)
        #expect(raw.slotStart(of: day - 1) == 0)
        #expect(raw.slotStart(of: -1) == -day)
        #expect(raw.slotStart(of: -day) == -day)
        // 2026-11-26 12:00 UTC.
        let noon: Int64 = 1_795_694_400 * 1_000_000_000
        #expect(raw.slotName(start: raw.slotStart(of: noon)) == "measurements_20261126")
        #expect(raw.slotName(start: -day) == "measurements_19691231")
        let week = TimePartitionedTable.minute
        #expect(week.slotStart(of: noon) % (7 * day) == 0 && noon - week.slotStart(of: noon) < 7 * day)
        #expect(TimePartitionedTable.named("1h") == .hour && TimePartitionedTable.named("2h") == nil)
        // Slots that start within a day carry the time too, so short periods never share a name.
        let quarter = raw.withWidth(15 * 60_000_000_000)
        #expect(quarter.slotName(start: quarter.slotStart(of: noon + 20 * 60_000_000_000)) == "measurements_20261126_121500")
        #expect(quarter.slotName(start: -15 * 60_000_000_000) == "measurements_19691231_234500")
        #expect(quarter.slotName(start: noon - 12 * hour) == "measurements_20261126")
    }

    @Test func partitionPeriodsComeFromTheEnvironmentOverTheDefaults() throws {
        let defaults = PartitionPeriods.defaults
        #expect(defaults.tables.map(\.width) == [day, 7 * day, 30 * day])
        let set = try PartitionPeriods.fromEnvironment(EnvironmentReader(["SLUICE_PARTITION_PERIOD_RAW": "6h", "SLUICE_PARTITION_PERIOD_1H": "2w"]))
        #expect(set.tables.map(\.width) == [6 * hour, 7 * day, 14 * day])
        #expect(set.narrowest == 6 * hour)
        #expect(try PartitionPeriods.fromEnvironment(EnvironmentReader(["SLUICE_PARTITION_PERIOD_RAW": "5s"])).narrowest == 5_000_000_000)
        for bad in ["0s", "1.5h", "day", "400d", "-1d"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try PartitionPeriods.fromEnvironment(EnvironmentReader(["SLUICE_PARTITION_PERIOD_1M": bad]))
            }
        }
    }
}
