import ArgumentParser

/// sluice-admin: creates, lists, rotates and revokes API keys in the database the services read them
/// from, rebuilds the rollup tiers after rows were loaded by SQL, and sets retention. A library, so tests
/// parse and run its commands in-process; `sluice-admin`'s main only runs it.
public struct SluiceAdmin: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sluice-admin",
        abstract: "Administers Sluice: API keys, the master key their secrets derive from, the rollup tiers and retention.",
        discussion: "Reads the same SLUICE_PG_* settings as the services, and SLUICE_AUTH_MASTER_KEY (or _FILE) to issue secrets.",
        subcommands: [Keys.self, NewMasterKey.self, Rollups.self, RetentionCommand.self]
    )

    public init() {}
}
