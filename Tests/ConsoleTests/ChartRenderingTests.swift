import ConsoleCore
import Foundation
import Testing

/// The charts are drawn on the server; what an operator reads off them must match the data.
@Suite struct ChartRenderingTests {
    @Test func theAxisEndsOnANiceNumberAboveTheLargestStack() {
        let chart = BarChart(
            title: "t", categories: ["a", "b"], series: [.init(name: "x", values: [30, 10]), .init(name: "y", values: [17, 80])],
            layout: .stacked)
        let svg = chart.render()
        // The largest stack is 90: ticks of 20 up to 100.
        #expect(svg.contains(">100</text>"))
        #expect(svg.contains(">80</text>"))
        #expect(!svg.contains(">120</text>"))
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>"))
    }

    @Test func aSingleSeriesGetsRoundTicks() {
        let chart = BarChart(
            title: "stages", categories: ["a", "b", "c", "d", "e", "f"], series: [.init(name: "users", values: [9, 113, 0, 54, 118, 6])],
            layout: .stacked)
        let svg = chart.render()
        for tick in ["0", "50", "100", "150"] { #expect(svg.contains(">\(tick)</text>"), "\(tick) in \(svg)") }
    }

    @Test func stackedBarsArePlacedOnTopOfEachOtherWithTheirValuesInTitles() {
        let chart = BarChart(
            title: "t", categories: ["d1"], series: [.init(name: "organic", values: [40]), .init(name: "ads", values: [60])],
            layout: .stacked)
        let svg = chart.render()
        // The plot is 692 wide (bars 80% of it) and 196 high; the axis top is 100 (step 20).
        // organic: 40 -> 78.4 high, from y = 208 - 78.4 = 129.6; ads on top: 60 -> 117.6 high, from 12.
        #expect(svg.contains("y=\"129.6\" width=\"553.6\" height=\"78.4\""))
        #expect(svg.contains("y=\"12\" width=\"553.6\" height=\"117.6\""))
        #expect(svg.contains("<title>d1 · organic: 40</title>"))
        #expect(svg.contains("<title>d1 · ads: 60</title>"))
    }

    @Test func groupedBarsShareTheCategoryWidth() {
        let chart = BarChart(
            title: "t", categories: ["m"], series: [.init(name: "a", values: [1]), .init(name: "b", values: [2])], layout: .grouped)
        let svg = chart.render()
        #expect(svg.components(separatedBy: "width=\"276.8\"").count == 3)
    }

    @Test func labelsAndTitlesAreEscaped() {
        let chart = BarChart(
            title: "<t>", categories: ["<c>"], series: [.init(name: "\"s\"", values: [1])], layout: .stacked)
        let svg = chart.render()
        #expect(!svg.contains("<t>"))
        #expect(!svg.contains("<c>"))
        #expect(svg.contains("&lt;c&gt;"))
        #expect(svg.contains("&quot;s&quot;"))
    }

    @Test func anEmptyChartStillRenders() {
        let svg = BarChart(title: "t", categories: [], series: [], layout: .stacked).render()
        #expect(svg.contains("</svg>"))
        #expect(!svg.contains("<rect"))
    }

    @Test func heatmapCellsShowPercentagesAndMarkIncompleteOnes() {
        let map = Heatmap(
            title: "r", columns: ["Day 1", "Day 7"],
            rows: [
                .init(label: "2026-12-01 (10)", cells: [.init(rate: 0.5, complete: true), .init(rate: 0.25, complete: false)]),
                .init(label: "2026-12-02 (4)", cells: [.init(rate: 0, complete: true), nil]),
            ])
        let svg = map.render()
        #expect(svg.contains(">50%</text>"))
        #expect(svg.contains(">25%*</text>"))
        #expect(svg.contains(">0%</text>"))
        // The highest rate is darkest, zero is white, incomplete is pale grey.
        #expect(svg.contains("fill=\"#08519c\""))
        #expect(svg.contains("fill=\"#ffffff\""))
        #expect(svg.contains("fill=\"#f3f3f3\""))
        #expect(svg.components(separatedBy: "<rect").count == 4)
    }
}
