import Foundation

/// Debian's PostgreSQL 15 started on loopback in a temporary directory, with fsync and
/// synchronous_commit on, and driven by pgbench with the same double-entry transfer: one
/// transaction per transfer, the debit guarded by a balance check.
final class PostgresAnchor {
    static let binaries = "/usr/lib/postgresql/15/bin"
    let directory: URL
    let port: Int
    private let asRoot: Bool

    /// The transfer pgbench runs: debit with a balance check, credit, journal row.
    static let script = """
        \\set from random(1, :accounts)
        \\set to random(1, :accounts)
        BEGIN;
        UPDATE accounts SET balance = balance - 1 WHERE id = :from AND balance >= 1;
        UPDATE accounts SET balance = balance + 1 WHERE id = :to;
        INSERT INTO transfers (debit, credit, amount) VALUES (:from, :to, 1);
        COMMIT;

        """

    private init(directory: URL, port: Int, asRoot: Bool) {
        self.directory = directory
        self.port = port
        self.asRoot = asRoot
    }

    /// Initialises a cluster, starts it, and creates `accounts` funded accounts.
    static func start(in directory: URL, accounts: Int) throws -> PostgresAnchor {
        guard FileManager.default.isExecutableFile(atPath: "\(binaries)/postgres") else {
            throw LoadError("PostgreSQL 15 is not installed (apt-get install postgresql-15)")
        }
        let asRoot = getuid() == 0
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if asRoot { try run("/bin/chown", ["-R", "postgres:postgres", directory.path]) }
        let anchor = PostgresAnchor(directory: directory, port: 20_000 + Int(getpid() % 20_000), asRoot: asRoot)
        let data = directory.appendingPathComponent("data").path
        try anchor.postgres("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"])
        try anchor.postgres(
            "pg_ctl",
            [
                "-D", data, "-l", directory.appendingPathComponent("server.log").path, "-w", "-o",
                "-p \(anchor.port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on "
                    + "-c max_connections=200 -c shared_buffers=256MB", "start",
            ])
        try anchor.sql(
            """
            CREATE TABLE accounts (id integer PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
            CREATE TABLE transfers (id bigserial PRIMARY KEY, debit integer NOT NULL, credit integer NOT NULL,
                                    amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO accounts SELECT g, 1000000000 FROM generate_series(1, \(accounts)) g;
            """)
        try anchor.sql("VACUUM ANALYZE accounts")
        let script = directory.appendingPathComponent("transfer.sql")
        try Self.script.replacingOccurrences(of: ":accounts", with: String(accounts))
            .write(to: script, atomically: true, encoding: .utf8)
        if asRoot { try run("/bin/chown", ["postgres:postgres", script.path]) }
        return anchor
    }

    /// Runs pgbench with `clients` connections for `seconds`; returns transactions per second.
    func pgbench(clients: Int, seconds: Int) throws -> Double {
        let output = try postgres(
            "pgbench",
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-f", directory.appendingPathComponent("transfer.sql").path,
                "-c", String(clients), "-j", String(min(2, clients)), "-T", String(seconds), "-n", "--max-tries=10", "postgres",
            ])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let value = Double(line.dropFirst(6).prefix { $0 != " " })
        else {
            throw LoadError("pgbench printed no tps:\n\(output)")
        }
        return value
    }

    /// Stops the server.
    func stop() {
        _ = try? postgres("pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "fast", "-w", "stop"])
    }

    @discardableResult
    private func sql(_ text: String) throws -> String {
        try postgres(
            "psql",
            [
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q",
                "-c", text, "postgres",
            ])
    }

    @discardableResult
    private func postgres(_ tool: String, _ arguments: [String]) throws -> String {
        let path = "\(Self.binaries)/\(tool)"
        return asRoot
            ? try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments, directory: directory)
            : try Self.run(path, arguments, directory: directory)
    }

    /// Runs a tool to completion with posix_spawn and waitpid (Foundation's Process waits on
    /// a run loop that `pg_ctl start`, whose server outlives it, can leave hanging), its output
    /// in a file; throws with the output when it fails.
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String], directory: URL? = nil) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-bench-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let directory { _ = FileManager.default.changeCurrentDirectoryPath(directory.path) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The child starts with no signal blocked and default handlers: the threads of this
        // process block most signals, and pgbench stalls with them blocked.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw LoadError("cannot start \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            throw LoadError("\(executable) \(arguments.joined(separator: " ")) failed (status \(status)):\n\(output)")
        }
        return output
    }
}
