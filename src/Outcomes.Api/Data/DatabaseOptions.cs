using System.ComponentModel.DataAnnotations;

namespace Outcomes.Api.Data;

public enum DatabaseProvider
{
    Sqlite,
    SqlServer,
}

/// <summary>The <c>Database</c> configuration section.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>SQLite file, relative to the working directory unless absolute.</summary>
    [Required]
    public string SqlitePath { get; set; } = "data/outcomes.db";

    /// <summary>Apply pending migrations at start-up. Defaults: on for SQLite, off for SQL Server.</summary>
    public bool? MigrateOnStartup { get; set; }

    /// <summary>Command timeout; also how long a SQLite writer waits for the lock.</summary>
    [Range(1, 600)]
    public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// SQLite: connections kept open between units of work, each with its compiled statements (0: every
    /// unit of work opens its own and compiles every statement, as before).
    /// </summary>
    [Range(0, 1024)]
    public int SqliteIdleConnections { get; set; } = 16;

    /// <summary>SQLite: compiled statements each kept connection keeps, least recently used dropped first.</summary>
    [Range(0, 4096)]
    public int SqliteStatementsPerConnection { get; set; } = 100;

    public bool ShouldMigrateOnStartup => MigrateOnStartup ?? Provider == DatabaseProvider.Sqlite;
}
