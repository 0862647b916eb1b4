import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP client for protocols without HTTP (Graphite's plaintext): connect to a loopback port, send
/// bytes, keep the connection open until the returned handle is dropped.
public enum TCP {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends `data` to 127.0.0.1:`port` on a new connection and closes it after `lingering`.
    /// - Returns: how many bytes the kernel took.
    @discardableResult
    public static func send(_ data: Data, to port: Int, lingering: Duration = .milliseconds(0)) throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        var sent = 0
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            while sent < bytes.count {
                let count = Glibc.send(socket, bytes.baseAddress!.advanced(by: sent), bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard count > 0 else { throw Failure(description: "send: errno \(errno)") }
                sent += count
            }
        }
        if lingering > .zero { Thread.sleep(forTimeInterval: Double(lingering.components.seconds) + Double(lingering.components.attoseconds) * 1e-18) }
        return sent
    }
}
