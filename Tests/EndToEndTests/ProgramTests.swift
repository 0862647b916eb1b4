import Foundation
import SluiceTestSupport
import Testing

/// The runner every agent and browser test goes through: it must neither hang on a chatty program nor
/// wait forever on a stuck one.
@Suite(.timeLimit(.minutes(1)))
struct ProgramTests {
    @Test func aProgramThatFillsItsErrorPipeBeforeItsOutputEndsStillFinishes() async throws {
        // 256 KiB on standard error first: four times a pipe's buffer, which a runner reading standard
        // output to its end before standard error never drains.
        let ran = try await Program.run("/bin/sh", ["-c", "head -c 262144 /dev/zero >&2; cat; echo done"], input: Data("in\n".utf8), within: .seconds(20))
        #expect(ran.succeeded && !ran.timedOut)
        #expect(ran.output == "in\ndone\n")
        #expect(ran.errors.utf8.count == 262_144)
    }

    @Test func aProgramPastItsTimeIsStoppedAndSaysSo() async throws {
        let started = ContinuousClock.now
        let ran = try await Program.run("/bin/sh", ["-c", "echo started; exec sleep 60"], within: .milliseconds(500))
        #expect(ran.timedOut && !ran.succeeded)
        #expect(ran.output == "started\n")
        #expect(ContinuousClock.now - started < .seconds(10), "stopping took \(ContinuousClock.now - started)")
    }

    @Test func theExitStatusAndEnvironmentArePassedThrough() async throws {
        let ran = try await Program.run("/bin/sh", ["-c", "printf %s \"$PROGRAM_TEST\"; exit 3"], environment: ["PROGRAM_TEST": "seen"], within: .seconds(20))
        #expect(ran.status == 3 && !ran.succeeded && !ran.timedOut)
        #expect(ran.output == "seen")
    }
}
