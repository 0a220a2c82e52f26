using System.Net.Sockets;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;

namespace Outcomes.Api.Infrastructure;

/// <summary>
/// What an operator sees when the service cannot start: one line on standard error that names the
/// cause and the database, and exit code 1, instead of an unhandled exception's stack trace and an
/// abort (exit code 134).
/// </summary>
public static class StartupFailure
{
    public const int ExitCode = 1;

    public static int Report(Exception exception, IServiceProvider? services)
    {
        string? target;
        try
        {
            target = services?.GetService<Database>()?.Target;
        }
        catch (InvalidOperationException)
        {
            target = null; // the database configuration is what failed: the message says so
        }
        Console.Error.WriteLine($"Outcomes cannot start: {Describe(exception, target)}");
        return ExitCode;
    }

    public static string Describe(Exception exception, string? target)
    {
        var where = target ?? "the database";
        return Innermost(exception) switch
        {
            StartupException e => e.Message,
            SqliteException { SqliteErrorCode: 26 } => $"{where} is not an SQLite database (SQLite error 26, SQLITE_NOTADB); point Database:SqlitePath at an Outcomes database, or at a new path",
            SqliteException { SqliteErrorCode: 11 } => $"{where} is damaged (SQLite error 11, SQLITE_CORRUPT); restore it from a backup",
            SqliteException { SqliteErrorCode: 8 } => $"{where} is read-only (SQLite error 8, SQLITE_READONLY); the service needs to write it, its journal and its directory",
            SqliteException { SqliteErrorCode: 14 } e => $"{where} cannot be opened (SQLite error 14, extended {e.SqliteExtendedErrorCode}, SQLITE_CANTOPEN); check that the file and its directory exist and may be written",
            SqliteException { SqliteErrorCode: 13 } => $"{where}: the disk is full (SQLite error 13, SQLITE_FULL)",
            SqliteException e => $"{where}: SQLite error {e.SqliteErrorCode} (extended {e.SqliteExtendedErrorCode}: {SQLitePCL.raw.sqlite3_errstr(e.SqliteExtendedErrorCode).utf8_to_string()})",
            SqlException e => $"{where}: SQL Server error {e.Number}: {e.Message}",
            OptionsValidationException e => $"the configuration is invalid: {string.Join("; ", e.Failures)}",
            SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => "the address to listen on is already in use (see --urls or ASPNETCORE_URLS)",
            var e => $"{e.GetType().Name}: {e.Message}",
        };
    }

    /// <summary>The exception that says what went wrong, under DbUp's and the host's wrappers.</summary>
    private static Exception Innermost(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is StartupException or SqliteException or SqlException or OptionsValidationException or SocketException)
            {
                return e;
            }
        }
        return exception;
    }
}
