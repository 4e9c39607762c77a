import RetainProto
import Testing

@Suite("points multiplier privilege")
struct PointsMultiplierTests {
    @Test("decimals from 1 to 10 with at most two places parse to hundredths and multiply rounding down")
    func parses() {
        #expect(PointsMultiplier("1")?.hundredths == 100)
        #expect(PointsMultiplier("1.2")?.hundredths == 120)
        #expect(PointsMultiplier("1.25")?.hundredths == 125)
        #expect(PointsMultiplier("10")?.hundredths == 1000)
        #expect(PointsMultiplier("1.5")?.apply(to: 5) == 7)
        #expect(PointsMultiplier("2")?.apply(to: 200) == 400)
        #expect(PointsMultiplier("1.05")?.description == "1.05")
        #expect(PointsMultiplier("1.50")?.description == "1.5")
    }

    @Test("anything else is not a multiplier")
    func refuses() {
        for text in ["", "0.5", "10.01", "11", "1.", ".5", "1.234", "x", "+1", "1,5", "１"] {
            #expect(PointsMultiplier(text) == nil, "\(text)")
        }
    }
}
