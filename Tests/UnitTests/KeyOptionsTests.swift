import LoadGen
import Testing

/// The load generators' key flags: a secret is base64url, so one in 64 begins with "-" and must still be
/// read as the value, not as an option (LoadGeneratorTests failed on one).
@Suite struct KeyOptionsTests {
    @Test(arguments: ["-leading-dash_secret", "--two-dashes", "plain_secret"])
    func aSecretIsTakenWhateverItStartsWith(secret: String) throws {
        let options = try KeyOptions.parse(["--key-id", "KEYID", "--secret", secret, "--sign"])
        #expect(options.keyID == "KEYID")
        #expect(options.secret == secret)
        #expect(options.sign)
    }
}
