import Admin
import ArgumentParser
import Testing

/// `sluice-admin`'s commands parsed in-process: what an operator types is refused with a message that says
/// what to fix, before any database is reached.
@Suite struct AdminCommandTests {
    /// The message `sluice-admin` prints for `arguments`, or nil when they parse.
    func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try SluiceAdmin.parseAsRoot(arguments)
            return nil
        } catch {
            return SluiceAdmin.message(for: error)
        }
    }

    @Test func goodCommandsParseToTheirSubcommands() throws {
        let cases: [([String], String)] = [
            (["keys", "create", "--name", "ci", "--rights", "acme:rw,*:r"], "Create"),
            (["keys", "revoke", "KEYID"], "Revoke"),
            (["retention", "set", "raw", "30d"], "Set"),
            (["retention", "set", "1h", "forever"], "Set"),
            (["retention", "unset", "1m"], "Unset"),
            (["rollups", "rebuild"], "Rebuild"),
        ]
        for (arguments, command) in cases {
            let parsed = try SluiceAdmin.parseAsRoot(arguments)
            #expect(String(describing: type(of: parsed)) == command, "\(arguments)")
        }
    }

    @Test func badInputIsRefusedWithWhatToFix() {
        #expect(refusal(["keys", "create", "--name", "ci", "--rights", "acme:x"])?.contains("--rights") == true)
        #expect(refusal(["keys", "create", "--name", " ", "--rights", "acme:r"])?.contains("--name must not be empty") == true)
        #expect(refusal(["retention", "set", "weekly", "7d"])?.contains("'weekly' is not a tier: use raw, 1m, 1h") == true)
        #expect(refusal(["retention", "set", "raw", "10x"]) != nil)
        #expect(refusal(["retention", "set", "raw", "10m"]) != nil, "shorter than the 1 h minimum")
        #expect(refusal(["retention", "unset", "2h"])?.contains("is not a tier") == true)
    }
}
