import Foundation
import Hummingbird
import Logging
import SluiceAuth
import SluiceRuntime

/// The chart page and the files it loads, open to anyone (they hold no data; the page's own requests
/// carry the key). Only these fixed paths are served: nothing under `/assets/` names a file by the
/// request, so no path can reach outside them. Debian's dygraphs is read once, at start.
struct PageRoutes: Sendable {
    struct Asset: Sendable {
        var body: ByteBuffer
        var contentType: String
        var cacheControl: String
    }

    let assets: [String: Asset]
    /// The files of Debian's libjs-dygraphs the page loads, and their content types.
    static let dygraphsFiles = [("dygraph.min.js", "text/javascript; charset=utf-8"), ("dygraph.min.css", "text/css; charset=utf-8")]
    /// Every path served, installed or not (a missing library answers 404 saying what to install).
    static let paths = ["/", "/assets/sluice-chart.js"] + dygraphsFiles.map { "/assets/" + $0.0 }

    init(dygraphsDirectory: String, logger: Logger) {
        var assets: [String: Asset] = [
            "/": Asset(body: ByteBuffer(string: ChartPage.html), contentType: "text/html; charset=utf-8", cacheControl: "no-cache"),
            "/assets/sluice-chart.js": Asset(
                body: ByteBuffer(string: ChartScript.javascript), contentType: "text/javascript; charset=utf-8", cacheControl: "no-cache"
            ),
        ]
        for (file, type) in Self.dygraphsFiles {
            let path = (dygraphsDirectory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                logger.warning("the chart page's library is missing; install Debian's libjs-dygraphs", metadata: ["path": "\(path)"])
                continue
            }
            // A packaged library changes only with the package: a day in caches is safe.
            assets["/assets/" + file] = Asset(body: ByteBuffer(bytes: data), contentType: type, cacheControl: "public, max-age=86400")
        }
        self.assets = assets
    }

    func register(on router: Router<SluiceRequestContext>) {
        for path in Self.paths {
            router.get(RouterPath(path)) { _, _ in try self.answer(path) }
        }
    }

    private func answer(_ path: String) throws -> Response {
        guard let asset = assets[path] else {
            throw APIError(.notFound, "\(path) is not installed here: install Debian's libjs-dygraphs where the bridge runs (SLUICE_BRIDGE_DYGRAPHS_DIR)")
        }
        return Response(
            status: .ok, headers: [.contentType: asset.contentType, .cacheControl: asset.cacheControl], body: .init(byteBuffer: asset.body)
        )
    }
}
