/// A table of rates drawn as an SVG grid: one row per cohort, one column per day N, each cell
/// shaded by its rate (white at 0, dark blue at the row set's highest rate) and labelled with
/// the percentage. A cell whose figure is not complete yet is drawn hatched-pale and marked
/// with `*`; a missing cell stays empty.
public struct Heatmap: Sendable {
    /// One cell: the rate (0 to 1) and whether it is final.
    public struct Cell: Sendable, Hashable {
        public var rate: Double
        public var complete: Bool

        public init(rate: Double, complete: Bool) {
            self.rate = rate
            self.complete = complete
        }
    }

    /// One row: its label and a cell per column (nil where there is none).
    public struct Row: Sendable, Hashable {
        public var label: String
        public var cells: [Cell?]

        public init(label: String, cells: [Cell?]) {
            self.label = label
            self.cells = cells
        }
    }

    /// An accessible name.
    public var title: String
    /// Column labels.
    public var columns: [String]
    /// Rows, top to bottom.
    public var rows: [Row]
    /// Cell size and label margins, CSS pixels.
    public var cellWidth: Double = 56
    public var cellHeight: Double = 18
    public var labelWidth: Double = 150

    public init(title: String, columns: [String], rows: [Row]) {
        self.title = title
        self.columns = columns
        self.rows = rows
    }

    /// The fill of a rate relative to `highest`: from white to #08519c.
    static func color(_ rate: Double, highest: Double) -> String {
        let t = highest > 0 ? min(1, max(0, rate / highest)) : 0
        let (r, g, b) = (255 - t * (255 - 8), 255 - t * (255 - 81), 255 - t * (255 - 156))
        func hex(_ value: Double) -> String {
            let byte = Int(value.rounded())
            let digits = Array("0123456789abcdef")
            return String([digits[byte >> 4], digits[byte & 15]])
        }
        return "#" + hex(r) + hex(g) + hex(b)
    }

    /// The `<svg>` element.
    public func render() -> String {
        let width = labelWidth + Double(columns.count) * cellWidth + 4
        let height = 20 + Double(rows.count) * cellHeight + 4
        let highest = rows.flatMap { $0.cells.compactMap { $0?.rate } }.max() ?? 0
        var svg = """
            <svg class="chart heatmap" role="img" aria-label="\(HTML.escape(title))" viewBox="0 0 \(BarChart.number(width)) \(BarChart.number(height))" \
            width="\(BarChart.number(width))" height="\(BarChart.number(height))" xmlns="http://www.w3.org/2000/svg"><title>\(HTML.escape(title))</title>
            """
        for (index, column) in columns.enumerated() {
            let x = labelWidth + Double(index) * cellWidth + cellWidth / 2
            svg += "<text x=\"\(BarChart.number(x))\" y=\"14\" text-anchor=\"middle\" font-size=\"11\">\(HTML.escape(column))</text>"
        }
        for (number, row) in rows.enumerated() {
            let y = 20 + Double(number) * cellHeight
            svg +=
                "<text x=\"\(BarChart.number(labelWidth - 6))\" y=\"\(BarChart.number(y + cellHeight - 5))\" text-anchor=\"end\" font-size=\"11\">\(HTML.escape(row.label))</text>"
            for (index, cell) in row.cells.enumerated() {
                guard let cell else { continue }
                let x = labelWidth + Double(index) * cellWidth
                let fill = cell.complete ? Self.color(cell.rate, highest: highest) : "#f3f3f3"
                let percent = BarChart.label((cell.rate * 1000).rounded() / 10) + "%" + (cell.complete ? "" : "*")
                let ink = cell.complete && highest > 0 && cell.rate / highest > 0.55 ? "#fff" : "#222"
                svg +=
                    "<rect x=\"\(BarChart.number(x))\" y=\"\(BarChart.number(y))\" width=\"\(BarChart.number(cellWidth - 1))\" height=\"\(BarChart.number(cellHeight - 1))\" fill=\"\(fill)\"/>"
                svg +=
                    "<text x=\"\(BarChart.number(x + cellWidth / 2))\" y=\"\(BarChart.number(y + cellHeight - 5))\" text-anchor=\"middle\" font-size=\"10\" fill=\"\(ink)\">\(percent)</text>"
            }
        }
        svg += "</svg>"
        return svg
    }
}
