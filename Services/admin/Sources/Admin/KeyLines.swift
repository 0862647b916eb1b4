import Foundation
import SluiceAuth
import SluiceRuntime

struct IssuedKeyLine: Encodable {
    var key_id: String
    var name: String
    var secret: String
    var rights: [String]

    init(_ issued: IssuedKey) {
        key_id = issued.record.id
        name = issued.record.name
        secret = issued.secret
        rights = issued.record.rights.entries
    }
}

struct KeyLine: Encodable {
    var key_id: String
    var name: String
    var rights: [String]
    var state: String
    var created_at: Date
    var rotated_at: Date?
    var revoked_at: Date?

    init(_ record: APIKeyRecord) {
        key_id = record.id
        name = record.name
        rights = record.rights.entries
        state = record.isActive ? "active" : "revoked"
        created_at = record.createdAt
        rotated_at = record.rotatedAt
        revoked_at = record.revokedAt
    }
}

func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder.sorted
    encoder.dateEncodingStrategy = .iso8601
    guard let data = try? encoder.encode(value) else { return }
    print(String(decoding: data, as: UTF8.self))
}
