/// The merge rules of the calls that every shard of a service answers for its own users: pure
/// functions from the shards' answers (in ring order) to the one answer a single instance
/// holding every user would give. docs/CLUSTER.md lists them; each rpc's comment in proto/
/// states its rule.
public enum ReportMerge {}
