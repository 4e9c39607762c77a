@testable import GatewayGRPC
import Testing

/// `grpc-timeout` values become the native call's deadline; bad ones are refused.
struct GRPCTimeoutTests {
    @Test("every unit of grpc-timeout is read")
    func units() {
        #expect(GRPCTimeout.parse("2H") == .seconds(7200))
        #expect(GRPCTimeout.parse("3M") == .seconds(180))
        #expect(GRPCTimeout.parse("20S") == .seconds(20))
        #expect(GRPCTimeout.parse("1500m") == .milliseconds(1500))
        #expect(GRPCTimeout.parse("99999999u") == .microseconds(99_999_999))
        #expect(GRPCTimeout.parse("7n") == .nanoseconds(7))
    }

    @Test("malformed grpc-timeout values are refused", arguments: ["", "S", "10", "10s", "123456789S", "-1S", "1.5S", "1 S"])
    func malformed(_ text: String) {
        #expect(GRPCTimeout.parse(text) == nil)
    }
}
