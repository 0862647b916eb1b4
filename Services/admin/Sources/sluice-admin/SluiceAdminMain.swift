import Admin
import ArgumentParser

/// `sluice-admin`: everything is in the Admin library; this only runs its root command.
@main
enum SluiceAdminMain {
    static func main() async {
        await (SluiceAdmin.self as any AsyncParsableCommand.Type).main()
    }
}
