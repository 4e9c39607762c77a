import RetainState
public import RetainProto

extension ProfileState {
    /// What a RegisterUser request does.
    public enum RegistrationPlan: Sendable {
        /// A new user: log this entry.
        case register(Retain_V1_ProfileLogEntry)
        /// A retry of the registration of this user: answer its profile with replayed = true.
        case replay(Int32)
    }

    /// Decides a (validated) registration: a new user, a retry of an earlier one (same
    /// request_id, or the same fields), or `.exists`.
    ///
    /// - Parameters:
    ///   - now: The server's clock, Unix ms; the registration time when the request gives none.
    ///   - generateID: Makes a fresh id when the request has none.
    public func planRegistration(
        _ request: Retain_V1_RegisterUserRequest, now: Int64, generateID: () -> String
    ) throws(ProfileError) -> RegistrationPlan {
        let fingerprint = Self.registrationFingerprint(request)
        var userID = request.userId
        if userID.isEmpty {
            if let existing = registrationKeys[request.requestId] {
                guard users[Int(existing)].registrationFingerprint == fingerprint else {
                    throw ProfileError.exists("request_id '\(request.requestId)' was already used by another registration")
                }
                return .replay(existing)
            }
            repeat { userID = generateID() } while userIndex(userID) != nil
        } else if let existing = userIndex(userID) {
            guard users[Int(existing)].registrationFingerprint == fingerprint else {
                throw ProfileError.exists("user '\(userID)' already exists")
            }
            return .replay(existing)
        }
        return .register(
            Retain_V1_ProfileLogEntry(
                registration: Retain_V1_ProfileRegistration(
                    request: request, userId: userID, registeredAtMs: request.registeredAtMs == 0 ? now : request.registeredAtMs,
                    atMs: now)))
    }

    /// A hash of every field of a registration request, independent of the order of attributes
    /// and tags, that tells a retry from a different registration.
    static func registrationFingerprint(_ request: Retain_V1_RegisterUserRequest) -> UInt64 {
        var hasher = StableHash()
        hasher.combine(request.userId)
        hasher.combine(request.requestId)
        hasher.combine(request.channel)
        hasher.combine(request.campaign)
        hasher.combine(request.inviterUserId)
        hasher.combine(UInt64(request.age))
        hasher.combine(Int64(request.gender.rawValue))
        hasher.combine(request.region)
        hasher.combine(request.timeZone)
        for key in request.attributes.keys.sorted() {
            hasher.combine(key)
            hasher.combine(request.attributes[key]!)
        }
        for tag in Set(request.tags).sorted() { hasher.combine(tag) }
        hasher.combine(request.registeredAtMs)
        return hasher.value
    }

    mutating func applyRegistration(_ entry: Retain_V1_ProfileRegistration) throws(ProfileError) {
        let userID = entry.userId
        guard !userID.isEmpty else { throw ProfileError.invalid(field: "user_id", reason: "must not be empty") }
        guard userIndex(userID) == nil else { throw ProfileError.exists("user '\(userID)' already exists") }
        let request = entry.request ?? Retain_V1_RegisterUserRequest()
        var tags = Set<Int32>()
        for tag in request.tags { tags.insert(symbols.intern(tag)) }
        var attributes: [UserAttribute] = []
        for (key, value) in request.attributes {
            attributes.append(UserAttribute(key: symbols.intern(key), value: value))
        }
        attributes.sort { $0.key < $1.key }
        let record = UserRecord(
            id: userID, inviter: request.inviterUserId, registeredAtMs: entry.registeredAtMs, updatedAtMs: entry.atMs,
            registrationFingerprint: Self.registrationFingerprint(request),
            channel: symbols.intern(request.channel), campaign: symbols.intern(request.campaign),
            region: symbols.intern(request.region), timeZone: symbols.intern(request.timeZone),
            age: UInt8(clamping: request.age), gender: UInt8(clamping: request.gender.rawValue),
            tags: tags.sorted(), attributes: attributes, purchaseTotals: [],
            activity: ActivitySummary(registrationDay: calendar.day(of: entry.registeredAtMs)))
        let userIndex = Int32(users.count)
        users.append(record)
        ids.insert(hash: UserIndex.hash(userID), index: userIndex)
        countInFunnel(userIndex)
        countInRetention(userIndex)
        if request.userId.isEmpty, !request.requestId.isEmpty {
            registrationKeys[request.requestId] = userIndex
        }
    }
}
