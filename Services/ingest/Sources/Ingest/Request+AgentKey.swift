import Hummingbird
import NIOCore
import SluiceSigning

extension Request {
    /// The request with `key` as its bearer header unless it carries an `Authorization` of its own: how
    /// formats that carry their key elsewhere (InfluxDB's `u`/`p`, Flux's `key`) reach the auth middleware.
    /// - Parameter body: the body already read, handed on in place of the stream.
    func authorized(by key: KeyCredentials?, body: ByteBuffer? = nil) -> Request {
        var head = head
        if head.headerFields[.authorization] == nil, let key {
            head.headerFields[.authorization] = key.bearerAuthorization
        }
        return Request(head: head, body: body.map { RequestBody(buffer: $0) } ?? self.body)
    }
}
