/// The one place that says what each method of the contract requires.
///
/// Methods that do not change state need `<service>:read`, methods that do need
/// `<service>:write`, administrative ones (opening accounts, caps, contact policy) need `admin`.
/// Health's probes are open and Reflection needs any valid credential. A path this table does not
/// know needs `admin` (fail closed); a test checks that every method of `MethodCatalog` is listed.
public enum MethodAccessTable {
    /// How much a method needs within its service.
    public enum Level: Sendable, Hashable {
        case read, write, admin
    }

    /// Every method by service (the part of the path after `retain.v1.`, lower-cased for the scope).
    public static let levels: [String: [String: Level]] = [
        "Echo": ["Echo": .read, "Expand": .read, "Sleep": .read, "Fail": .read, "Inspect": .read],
        "Profile": [
            "RegisterUser": .write, "GetProfile": .read, "UpdateAttributes": .write, "AddTags": .write,
            "RemoveTags": .write, "DeleteUser": .write, "RecordActivity": .write, "RecordActivities": .write,
            "GetLifecycle": .read, "CountSegment": .read, "ListSegment": .read, "GetRetention": .read,
            "GetActiveUsers": .read, "GetFunnel": .read, "GetExperimentResults": .read,
            "ListChurnWarnings": .read, "CheckContact": .read, "RecordContact": .write,
            "GetContactPolicy": .read, "SetContactPolicy": .admin, "AssignVariant": .write,
            "CreateCampaign": .admin, "GetCampaign": .read, "ListCampaigns": .read, "EnrollCampaignMembers": .admin,
            "MarkCampaignEnrolled": .admin, "TouchCampaignMembers": .admin, "CancelCampaign": .admin,
            "ListCampaignReturns": .read, "GetCampaignMember": .read, "GetCampaignResults": .read,
            "PutSavedSegment": .admin, "GetSavedSegment": .read, "ListSavedSegments": .read,
            "DeleteSavedSegment": .admin, "MatchSegmentRule": .read,
        ],
        "Growth": [
            "GetLevelTiers": .read, "AwardGrowth": .write, "CheckIn": .write, "ListTasks": .read,
            "ClaimTaskReward": .write, "GetGrowthView": .read, "GetGrowthSummary": .read,
            "GetLeaderboard": .read, "GetRank": .read, "GetBoardPosition": .read, "WatchLevelChanges": .read, "GetLevels": .read,
            "GetLevelDistribution": .read,
        ],
        "Ledger": [
            "OpenAccount": .admin, "SetAccountCap": .admin, "GetAccount": .read, "ListAccounts": .read,
            "CreateTransfers": .write, "PostPending": .write, "VoidPending": .write, "LookupTransfers": .read,
            "GetBalance": .read, "ExpireLots": .write, "Penalize": .write, "RewardReferral": .write,
            "GetStatement": .read, "GetYearlySummary": .read, "GetLedgerSummary": .read, "GetPeriodTotals": .read, "Audit": .read,
            "DefineCoupon": .admin, "IssueCoupon": .write, "RedeemCoupon": .write, "RefundCoupon": .write,
            "GetCoupon": .read, "ListUserCoupons": .read, "GetBalances": .read,
        ],
        "Feedback": [
            "SubmitFeedback": .write, "GetFeedback": .read, "TriageFeedback": .write, "AssignFeedback": .write,
            "StartProgress": .write, "ResolveFeedback": .write, "CloseFeedback": .write,
            "ReopenFeedback": .write, "AddComment": .write, "ListFeedback": .read, "ListOverdue": .read,
            "GetUserFeedbackHistory": .read, "GetFaq": .read, "GetFeedbackStats": .read,
            "MarkCompensationPaid": .write,
        ],
        "Gateway": [
            "Onboard": .write, "TrackAction": .write, "CheckInFlow": .write, "ResolveFeedbackFlow": .write,
            "SubmitFeedbackFlow": .write, "GetUserReport": .read,
            "ListBackends": .read, "LocateUser": .read, "CountSavedSegment": .read, "ListSavedSegmentMembers": .read,
        ],
    ]

    /// Paths outside the scoped services.
    static let special: [String: MethodAccess] = [
        "retain.v1.Health/Check": .open,
        "retain.v1.Health/Watch": .open,
        "retain.v1.Reflection/ListServices": .authenticated,
        "retain.v1.Reflection/GetDescriptorSet": .authenticated,
        // Between the processes of a shard, with service tokens.
        "retain.v1.Replication/Follow": .scope(.admin),
        "retain.v1.Replication/Acknowledge": .scope(.admin),
        "retain.v1.Replication/GetReplicationStatus": .scope(.admin),
        "retain.v1.Replication/FetchSnapshot": .scope(.admin),
        // The resharding driver's calls to a shard (docs/CLUSTER.md).
        "retain.v1.Resharding/ListShardUsers": .scope(.admin),
        "retain.v1.Resharding/ExportUsers": .scope(.admin),
        "retain.v1.Resharding/ImportUsers": .scope(.admin),
        "retain.v1.Resharding/FenceUsers": .scope(.admin),
        "retain.v1.Resharding/DropUsers": .scope(.admin),
        // Outbound webhooks (docs/WEBHOOKS.md): where user data goes, and what it says.
        "retain.v1.Webhooks/CreateSubscription": .scope(.admin),
        "retain.v1.Webhooks/ListSubscriptions": .scope(.admin),
        "retain.v1.Webhooks/DeleteSubscription": .scope(.admin),
        "retain.v1.Webhooks/ListDeliveries": .scope(.admin),
        "retain.v1.Webhooks/ListDeadLetters": .scope(.admin),
        "retain.v1.Webhooks/Redeliver": .scope(.admin),
        // Live configuration (docs/CONFIG.md): any caller may read the rules in force, only an
        // admin changes them.
        "retain.v1.RuleSets/GetRuleSet": .authenticated,
        "retain.v1.RuleSets/ListRuleSetVersions": .authenticated,
        "retain.v1.RuleSets/SetRuleSet": .scope(.admin),
        "retain.v1.RuleSets/RollbackRuleSet": .scope(.admin),
    ]

    /// Every known path with what it requires.
    public static let table: [String: MethodAccess] = {
        var table = special
        for (service, methods) in levels {
            let scopeService = service.lowercased()
            for (method, level) in methods {
                let scope: ScopeSet? =
                    switch level {
                    case .read: .read(scopeService)
                    case .write: .write(scopeService)
                    case .admin: .admin
                    }
                table["retain.v1.\(service)/\(method)"] = .scope(scope!)
            }
        }
        return table
    }()

    /// What a call of `path` must carry: `admin` for a path the table does not know.
    public static func access(for path: String) -> MethodAccess {
        table[path] ?? .scope(.admin)
    }
}
