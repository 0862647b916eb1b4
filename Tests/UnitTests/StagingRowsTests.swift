import NIOCore
import SluiceModel
import Testing

@testable import Writer

@Suite struct StagingRowsTests {
    @Test func rowsAreCopyTextWithEscapes() {
        var buffer = ByteBuffer()
        StagingRows.append(Measurement(domain: "d", tag: #"a\b"#, time: 42, values: [1, -0.5, 1e-300]), seq: 3, to: &buffer)
        #expect(String(buffer: buffer) == "3\td\ta\\\\b\t42\t{1.0,-0.5,1e-300}\n")
    }

    @Test func tabsAndNewlinesCannotSplitAColumn() {
        var buffer = ByteBuffer()
        StagingRows.appendEscaped("x\ty\nz\r", to: &buffer)
        #expect(String(buffer: buffer) == #"x\ty\nz\r"#)
    }
}
