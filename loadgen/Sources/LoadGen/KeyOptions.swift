import ArgumentParser

/// `--key-id`, `--secret` and `--sign`, shared by the load generators.
public struct KeyOptions: ParsableArguments {
    @Option(help: "API key id, when the services require keys (default: SLUICE_KEY_ID)") public var keyID: String?
    /// Taken whatever it starts with: a secret is base64url, and one in 64 begins with "-", which would
    /// otherwise read as an option (a flaky load-generator test found it).
    @Option(parsing: .unconditional, help: "the key's secret (default: SLUICE_KEY_SECRET)") public var secret: String?
    @Flag(help: "sign every request (SLUICE-HMAC-SHA256) instead of sending the key as a bearer token") public var sign = false

    public init() {}

    public func authorization() throws -> RequestAuthorization? {
        do {
            return try RequestAuthorization.from(keyID: keyID, secret: secret, signs: sign)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
