/// A bar chart drawn as an SVG element on the server: categories along the x axis, one or more
/// series, stacked (parts of a whole, e.g. new users per channel) or grouped side by side
/// (quantities to compare, e.g. earned / spent / expired).
///
/// No script draws it, so the page needs nothing from the internet and a screenshot or a
/// printout shows the same chart. Every label goes through ``HTML/escape(_:)``; each bar
/// carries a `<title>` with its value, which browsers show on hover.
public struct BarChart: Sendable {
    /// One series: its name (the legend) and a value per category.
    public struct Series: Sendable, Hashable {
        public var name: String
        public var values: [Double]

        public init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    /// How several series share a category.
    public enum Layout: Sendable {
        /// On top of each other: the bar's height is the category's total.
        case stacked
        /// Side by side.
        case grouped
    }

    /// Category labels, left to right.
    public var categories: [String]
    /// The series, in legend order.
    public var series: [Series]
    /// Stacked or grouped.
    public var layout: Layout
    /// Size in CSS pixels (the SVG scales with its container through its `viewBox`).
    public var width: Double = 760
    public var height: Double = 260
    /// An accessible name (the SVG's `<title>` and `aria-label`).
    public var title: String
    /// Show every `labelEvery`-th category label, so that 60 days stay readable.
    public var labelEvery: Int = 1

    public init(title: String, categories: [String], series: [Series], layout: Layout) {
        self.title = title
        self.categories = categories
        self.series = series
        self.layout = layout
    }

    /// The palette, one color per series in order (repeats after eight).
    public static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]

    static let left = 56.0
    static let right = 12.0
    static let top = 12.0
    static let bottom = 52.0

    /// The largest value the y axis must reach: the largest stack, or the largest bar.
    var maximum: Double {
        var maximum = 0.0
        for index in categories.indices {
            let values = series.map { index < $0.values.count ? max(0, $0.values[index]) : 0 }
            maximum = Swift.max(maximum, layout == .stacked ? values.reduce(0, +) : (values.max() ?? 0))
        }
        return maximum
    }

    /// The y axis's top and tick step: a "nice" step (1, 2 or 5 times a power of ten) giving
    /// at most five ticks.
    static func axis(for maximum: Double) -> (top: Double, step: Double) {
        guard maximum > 0 else { return (1, 1) }
        let rough = maximum / 5
        var magnitude = 1.0
        while magnitude * 10 <= rough { magnitude *= 10 }
        while magnitude > rough { magnitude /= 10 }
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? magnitude * 10
        return ((maximum / step).rounded(.up) * step, step)
    }

    /// The `<svg>` element.
    public func render() -> String {
        let plotWidth = width - Self.left - Self.right
        let plotHeight = height - Self.top - Self.bottom
        let (axisTop, step) = Self.axis(for: maximum)
        func y(_ value: Double) -> Double { Self.top + plotHeight - value / axisTop * plotHeight }
        var svg = """
            <svg class="chart" role="img" aria-label="\(HTML.escape(title))" viewBox="0 0 \(Self.number(width)) \(Self.number(height))" \
            width="\(Self.number(width))" height="\(Self.number(height))" xmlns="http://www.w3.org/2000/svg">\
            <title>\(HTML.escape(title))</title>
            """
        // Grid lines and y labels.
        var tick = 0.0
        while tick <= axisTop + step / 2 {
            let at = y(tick)
            svg +=
                "<line x1=\"\(Self.number(Self.left))\" x2=\"\(Self.number(width - Self.right))\" y1=\"\(Self.number(at))\" y2=\"\(Self.number(at))\" stroke=\"#ddd\"/>"
            svg +=
                "<text x=\"\(Self.number(Self.left - 6))\" y=\"\(Self.number(at + 4))\" text-anchor=\"end\" font-size=\"11\">\(Self.label(tick))</text>"
            tick += step
        }
        let slot = categories.isEmpty ? plotWidth : plotWidth / Double(categories.count)
        let barWidth = max(1, slot * 0.8)
        for (index, category) in categories.enumerated() {
            let x0 = Self.left + Double(index) * slot + (slot - barWidth) / 2
            var base = 0.0
            for (number, series) in series.enumerated() {
                let value = index < series.values.count ? max(0, series.values[index]) : 0
                let color = Self.palette[number % Self.palette.count]
                let (x, w, from): (Double, Double, Double)
                switch layout {
                case .stacked:
                    (x, w, from) = (x0, barWidth, base)
                    base += value
                case .grouped:
                    let each = barWidth / Double(max(1, self.series.count))
                    (x, w, from) = (x0 + Double(number) * each, each, 0)
                }
                guard value > 0 else { continue }
                let top = y(from + value)
                svg +=
                    "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(top))\" width=\"\(Self.number(w))\" height=\"\(Self.number(y(from) - top))\" fill=\"\(color)\">"
                svg += "<title>\(HTML.escape(category)) · \(HTML.escape(series.name)): \(Self.label(value))</title></rect>"
            }
            if index % max(1, labelEvery) == 0 {
                let cx = Self.left + Double(index) * slot + slot / 2
                svg +=
                    "<text x=\"\(Self.number(cx))\" y=\"\(Self.number(height - Self.bottom + 16))\" text-anchor=\"middle\" font-size=\"11\">\(HTML.escape(category))</text>"
            }
        }
        svg +=
            "<line x1=\"\(Self.number(Self.left))\" x2=\"\(Self.number(width - Self.right))\" y1=\"\(Self.number(y(0)))\" y2=\"\(Self.number(y(0)))\" stroke=\"#333\"/>"
        // Legend below the plot, inside the bottom margin.
        var x = Self.left
        let legendY = height - 14
        for (number, series) in series.enumerated() {
            svg +=
                "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(legendY - 9))\" width=\"10\" height=\"10\" fill=\"\(Self.palette[number % Self.palette.count])\"/>"
            svg += "<text x=\"\(Self.number(x + 14))\" y=\"\(Self.number(legendY))\" font-size=\"12\">\(HTML.escape(series.name))</text>"
            x += 24 + Double(series.name.count) * 8
        }
        svg += "</svg>"
        return svg
    }

    /// A coordinate with at most one decimal, so the markup stays small and stable.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// A value as an axis or tooltip label: integers without decimals, others with up to two.
    static func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return Format.count(Int(value)) }
        return String((value * 100).rounded() / 100)
    }
}
