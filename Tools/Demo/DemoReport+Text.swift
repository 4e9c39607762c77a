import Foundation

extension DemoReport {
    /// The report as printed: four tables, each naming the call it comes from.
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
