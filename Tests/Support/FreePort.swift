import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on 127.0.0.1 that nothing is bound to right now, below the kernel's ephemeral range: a port
/// in that range could become the local end of some outgoing connection (to PostgreSQL, Kafka) before the
/// service that is handed it binds it.
public func freeLoopbackPort() -> Int {
    let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
        .split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
    let ephemeral = range.map { $0 > 12_000 ? $0 : 32_768 } ?? 32_768
    for _ in 0..<1000 {
        let port = Int.random(in: 10_000..<ephemeral)
        if canBind(port) { return port }
    }
    preconditionFailure("no free loopback port below \(ephemeral)")
}

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
    }
}
