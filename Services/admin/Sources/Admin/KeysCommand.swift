import ArgumentParser
import SluiceAuth

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Creates, lists, rotates and revokes API keys.",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates a key and prints {\"key_id\", \"secret\", \"rights\"} as one JSON line; the secret is shown only now."
        )
        @Option(help: "A name that says who or what holds the key.")
        var name: String
        @Option(help: "Comma-separated domain:permissions, permissions r, w or rw; '*' for every domain. Example: 'acme:rw,*:r'.")
        var rights: String

        func validate() throws {
            do { _ = try Rights.parse(rights) } catch { throw ValidationError("--rights: \(error)") }
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name must not be empty") }
        }

        func run() async throws {
            let rights = try Rights.parse(rights)
            let master = try AdminEnvironment.masterKey()
            try await AdminEnvironment.withKeyStore { store in
                printJSON(IssuedKeyLine(try await store.create(name: name, rights: rights, master: master)))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints every key as one JSON line each (never a secret).")

        func run() async throws {
            try await AdminEnvironment.withKeyStore { store in
                for record in try await store.all() { printJSON(KeyLine(record)) }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revokes a key for good: every service refuses it within SLUICE_AUTH_REFRESH_MS.")
        @Argument(help: "The key id.")
        var keyID: String

        func run() async throws {
            try await AdminEnvironment.withKeyStore { store in printJSON(KeyLine(try await store.revoke(keyID))) }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Gives a key a new secret (same id and rights) and prints it like create; the old secret stops working within SLUICE_AUTH_REFRESH_MS."
        )
        @Argument(help: "The key id.")
        var keyID: String

        func run() async throws {
            let master = try AdminEnvironment.masterKey()
            try await AdminEnvironment.withKeyStore { store in
                printJSON(IssuedKeyLine(try await store.rotate(keyID, master: master)))
            }
        }
    }
}
