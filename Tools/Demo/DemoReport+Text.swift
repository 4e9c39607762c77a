import Foundation
import RetainProto

extension DemoReport {
    /// The report as printed: the tables, each naming the call it comes from.
    public var text: String {
        var lines: [String] = []
        lines.append("Retention by channel (Profile.GetRetention, daily cohorts; day N counts the cohorts whose day N is over)")
        lines += Self.table(
            ["channel", "new users", "day 1", "day 7", "day 30"],
            retention.map { row in
                [row.channel, "\(row.newUsers)"]
                    + row.cells.map { cell in
                        cell.base == 0 ? "-" : String(format: "%.1f%% of %llu", Double(cell.retained) * 100 / Double(cell.base), cell.base)
                    }
            })
        lines.append("")
        lines.append("Funnel by channel (Profile.GetFunnel, weekly cohorts; activated = \(activation); purchased = activated and bought)")
        func share(_ part: UInt64, _ whole: UInt64) -> String {
            whole == 0 ? "-" : String(format: "%llu (%.1f%%)", part, Double(part) * 100 / Double(whole))
        }
        lines += Self.table(
            ["channel", "registered", "activated", "purchased", "bought, not activated"],
            funnel.map { row in
                [
                    row.channel, "\(row.registered)", share(row.activated, row.registered), share(row.purchased, row.activated),
                    "\(row.purchasedNotActivated)",
                ]
            })
        lines.append("")
        lines.append(
            "Experiment \(experiment.experimentId), metric \(experiment.metricKind) (Profile.GetExperimentResults; control \(experiment.controlVariant))"
        )
        lines += Self.table(
            ["variant", "assigned", "converted", "rate", "lift", "difference, 95% CI", "significant"],
            experiment.variants.map { variant in
                let isControl = variant.variant == experiment.controlVariant
                return [
                    variant.variant, "\(variant.assigned)", "\(variant.converted)", String(format: "%.1f%%", variant.conversionRate * 100),
                    isControl ? "-" : String(format: "%+.1f%%", variant.lift * 100),
                    isControl
                        ? "-"
                        : String(
                            format: "%+.1f pts [%+.1f, %+.1f]", variant.difference * 100, variant.differenceCiLow * 100,
                            variant.differenceCiHigh * 100),
                    isControl ? "-" : (variant.significant ? "yes" : "no"),
                ]
            })
        lines.append("interval: \(experiment.method)")
        lines.append("")
        if let recall {
            let treated = recall.treated ?? .init()
            let holdout = recall.holdout ?? .init()
            lines.append(
                "Recall campaign \(recall.campaignId) (Profile.GetCampaignResults; simulated return chance \(Int(DemoScenario.recallChance.treated * 100))% touched, \(Int(DemoScenario.recallChance.holdout * 100))% held out)"
            )
            lines += Self.table(
                ["group", "members", "came back", "recall rate"],
                [
                    ["treated", "\(treated.members)", "\(treated.returned)", String(format: "%.1f%%", treated.recallRate * 100)],
                    ["holdout", "\(holdout.members)", "\(holdout.returned)", String(format: "%.1f%%", holdout.recallRate * 100)],
                ])
            lines.append(
                String(format: "lift %+.1f pts, 95%% CI [%+.1f, %+.1f]", recall.lift * 100, recall.liftCiLow * 100, recall.liftCiHigh * 100)
                    + (recall.significant ? " (significant)" : " (not significant)")
                    + String(format: "; %.0f users brought back", recall.incrementalReturns)
                    + "; \(recall.touches) touches costing \(recall.touchCost)"
                    + String(format: "; cost per recalled user %.2f", recall.costPerRecalledUser))
            lines.append("")
        }
        lines.append("Coupons (Ledger.Audit of asset \(coupons.asset); 满100减20)")
        lines += Self.table(
            ["coupons", "count"],
            [
                ["issued", "\(coupons.issued)"], ["redeemed (less refunds)", "\(coupons.redeemed)"],
                ["given back by refunds", "\(coupons.refunded)"], ["expired", "\(coupons.expired)"],
                ["held unused now", "\(coupons.outstanding)"],
                ["redemptions refused: order under the threshold", "\(activity.couponsBelowThreshold)"],
            ])
        lines.append("")
        let users = levels.reduce(0) { $0 + $1.users }
        lines.append("Level distribution (Growth.GetGrowthView of each simulated user)")
        lines += Self.table(
            ["level", "users", "share"],
            levels.map { level in
                [
                    "\(level.level) \(level.name)", "\(level.users)",
                    users == 0 ? "-" : String(format: "%.1f%%", Double(level.users) * 100 / Double(users)),
                ]
            })
        lines.append("")
        lines.append("Points (Ledger.Audit of asset points over user accounts)")
        var rows = points.issuedByKind.map { ["issued: \($0.kind)", "\($0.value)"] }
        rows.append(["issued", "\(points.issued)"])
        rows.append(["spent (redemptions less refunds)", "\(points.spent)"])
        rows.append(["expired (ExpireLots as of \(DemoScenario.date(expiry.asOfMs)): \(expiry.lots) lots)", "\(points.expired)"])
        if points.penalized != 0 { rows.append(["penalized", "\(points.penalized)"]) }
        rows.append(["held by users now", "\(points.outstanding)"])
        lines += Self.table(["points", "value"], rows)
        lines.append("ledger balanced: \(points.balanced ? "yes" : "NO")")
        lines.append("")
        lines.append("Feedback (Feedback.GetFeedbackStats; compensation from Ledger.Audit)")
        lines += Self.table(
            ["kind", "submitted", "open", "done"], feedback.byKind.map { ["\($0.kind)", "\($0.total)", "\($0.open)", "\($0.done)"] })
        lines.append(
            "resolved: \(feedback.resolved); open: \(feedback.open) (overdue \(feedback.overdue)); compensation paid: \(feedback.compensationPaid) points in \(feedback.compensations) transfers"
        )
        return lines.joined(separator: "\n")
    }

    /// Left-aligned first column, right-aligned others.
    static func table(_ header: [String], _ rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.count > column ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return index == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line)
    }
}
