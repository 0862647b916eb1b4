import ArgumentParser
import SluiceAuth

struct NewMasterKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master-key",
        abstract: "Prints a new random master key (48 bytes, base64) for SLUICE_AUTH_MASTER_KEY. Keep it secret; every service needs the same one."
    )

    func run() {
        print(MasterKey.generate())
    }
}
