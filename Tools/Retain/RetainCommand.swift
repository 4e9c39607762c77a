import ArgumentParser
import RetainCommands
import RetainDemo
import RetainLauncher
import RetainSoak

/// `retain`: the operator's command: call and inspect running services, load-test them, and
/// run the whole suite locally, or the demo scenario through it.
@main
struct RetainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain",
        abstract: "Operate Retain: call, inspect and load-test services; run the suite locally.",
        subcommands: [
            ListCommand.self, DescribeCommand.self, CallCommand.self, HealthCommand.self, LoadCommand.self, UpCommand.self,
            ClusterCommand.self, SegmentCommand.self, CampaignCommand.self, ConfigCommand.self, WebhookCommand.self, DemoCommand.self,
            SoakCommand.self,
        ])
}
