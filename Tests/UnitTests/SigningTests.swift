import Crypto
import SluiceSigning
import Testing

/// The canonical request and signature clients compute, against values computed elsewhere.
@Suite struct SigningTests {
    @Test func canonicalQuerySortsByEncodedNameThenValueAndEncodesReservedCharacters() {
        let canonical = CanonicalQuery.encode(parameters: [
            ("tag", "a b&c"), ("domain", "acme"), ("tag", "A"), ("empty", ""), ("x", "~-._/?"),
        ])
        // Python: "&".join(sorted((quote(n, safe="-._~"), quote(v, safe="-._~")) …))
        #expect(canonical == "domain=acme&empty=&tag=A&tag=a%20b%26c&x=~-._%2F%3F")
    }

    @Test func canonicalQueryOfNothingIsEmpty() {
        #expect(CanonicalQuery.encode(parameters: []) == "")
        #expect(CanonicalQuery.encode(rawQuery: "") == "")
        #expect(CanonicalQuery.encode(rawQuery: "&&") == "")
    }

    @Test func serverReadsTheWireFormTheSameWayAClientEncodesIt() {
        // However a client escaped it, the server's canonical form is the client's.
        #expect(CanonicalQuery.encode(rawQuery: "tag=a%20b%26c&domain=acme&tag=A&empty=&x=~-._%2f%3F") == "domain=acme&empty=&tag=A&tag=a%20b%26c&x=~-._%2F%3F")
        #expect(CanonicalQuery.encode(rawQuery: "b=2&a") == "a=&b=2")
        #expect(CanonicalQuery.encode(rawQuery: "%61=%C3%A9") == "a=%C3%A9")
    }

    @Test func plusIsAPlusSignAsRFC3986ReadsIt() {
        #expect(CanonicalQuery.encode(rawQuery: "q=a+b") == "q=a%2Bb")
    }

    @Test func repeatedNamesAreOrderedByValue() {
        #expect(CanonicalQuery.encode(rawQuery: "k=b&k=a&k=") == "k=&k=a&k=b")
    }

    @Test func malformedEscapesAreRefused() {
        #expect(CanonicalQuery.encode(rawQuery: "a=%") == nil)
        #expect(CanonicalQuery.encode(rawQuery: "a=%4") == nil)
        #expect(CanonicalQuery.encode(rawQuery: "a=%zz") == nil)
    }

    /// Computed with Python's hmac and hashlib (not with this code):
    ///   sts = "\n".join(["POST", "/save", canonical, "1700000000", sha256(body).hexdigest()])
    ///   hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    @Test func signatureMatchesAnIndependentlyComputedVector() {
        let credentials = KeyCredentials(keyID: "KEY", secret: "s3cr3t-Example_key-0123456789abc")
        let body = Array(#"{"time":1700000000000000000,"tag":"cpu","values":[1]}"#.utf8)
        let headers = RequestSignature.headers(
            credentials: credentials, method: "POST", path: "/save",
            parameters: [("tag", "a b&c"), ("domain", "acme"), ("tag", "A"), ("empty", ""), ("x", "~-._/?")],
            body: body, date: 1_700_000_000
        )
        #expect(headers.authorization == "SLUICE-HMAC-SHA256 Credential=KEY, Signature=dc070d293c4a35db53cd9288798ee89fc5a77311c28fa69d8a3a336bb03dbcf3")
        #expect(headers.date == "1700000000")
    }

    @Test func aChangedBodyOrPathChangesTheSignature() {
        let credentials = KeyCredentials(keyID: "KEY", secret: "secret")
        let original = RequestSignature.headers(credentials: credentials, method: "POST", path: "/save", body: Array("a".utf8), date: 1)
        #expect(original != RequestSignature.headers(credentials: credentials, method: "POST", path: "/save", body: Array("b".utf8), date: 1))
        #expect(original != RequestSignature.headers(credentials: credentials, method: "POST", path: "/sav", body: Array("a".utf8), date: 1))
        #expect(original != RequestSignature.headers(credentials: credentials, method: "POST", path: "/save", body: Array("a".utf8), date: 2))
    }

    @Test func bearerTokensSplitAtTheDot() {
        #expect(KeyCredentials(token: "ID.secret") == KeyCredentials(keyID: "ID", secret: "secret"))
        #expect(KeyCredentials(token: "ID.") == nil)
        #expect(KeyCredentials(token: ".secret") == nil)
        #expect(KeyCredentials(token: "IDsecret") == nil)
        #expect(KeyCredentials(token: "ID.sec.ret") == nil)
    }

    @Test func hexRoundTrips() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("0") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
