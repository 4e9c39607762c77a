import ProfileCore
import RetainClock
import RetainMoves
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
import RetainWire

extension ProfileRouter {
    func registerContactMethods(_ router: inout RPCRouter) {
        let clock = clock
        let defaultPolicy = defaultPolicy
        router.profileRead(Retain_V1_Profile.checkContact, from: store) { request, _, state in
            try state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).validate(request)
            guard let user = state.userIndex(request.userId) else { throw RPCError.notFound("user", request.userId) }
            return state.checkContact(
                user, channels: request.channels, campaign: request.campaignId, at: request.atMs == 0 ? now : request.atMs,
                policy: state.contactPolicy(default: defaultPolicy))
        }
        router.profileWrite(Retain_V1_Profile.recordContact, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).validate(request)
            switch try transaction.state.planContact(
                request, policy: transaction.state.contactPolicy(default: defaultPolicy), now: now)
            {
            case .answer(let response):
                return response
            case .record(let entry, let response):
                try transaction.log(entry)
                return response
            }
        }
        router.profileRead(Retain_V1_Profile.getContactPolicy, from: store) { _, _, state in
            Retain_V1_GetContactPolicyResponse(policy: state.contactPolicy(default: defaultPolicy))
        }
        // SetContactPolicy needs the admin scope, checked by the RPC runtime (RetainAuth's MethodAccessTable).
        router.profileWrite(Retain_V1_Profile.setContactPolicy, to: store) { request, _, transaction in
            let now = clock.now()
            let validator = validator(now: now)
            guard let policy = request.policy else { throw RPCError.invalidArgument(field: "policy", "is required") }
            try validator.validate(policy)
            try validator.entityID(request.actor, "actor")
            try transaction.log(
                try transaction.state.planPolicyChange(
                    policy, expectedVersion: request.expectedVersion, actor: request.actor, now: now))
            return Retain_V1_SetContactPolicyResponse(policy: transaction.state.contactPolicy(default: defaultPolicy))
        }
    }
}
