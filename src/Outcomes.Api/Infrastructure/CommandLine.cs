using System.Globalization;

namespace Outcomes.Api.Infrastructure;

public enum Command
{
    Serve,
    Help,
    Migrate,
    DemoData,
}

/// <summary>
/// What the operator asked for on the command line. A command's own options are checked strictly
/// (an unknown option or a bad value is refused, never silently replaced by a default); settings
/// (<c>--Section:Key=value</c>, <c>--urls</c>, <c>--environment</c>) go on to the host's
/// configuration, as in any ASP.NET Core service.
/// </summary>
public sealed record CommandLine(Command Command, int Patients = CommandLine.DefaultPatients, int Seed = CommandLine.DefaultSeed, string? Error = null)
{
    public const int DefaultPatients = 300;
    public const int DefaultSeed = 42;
    public const int MaxPatients = 1_000_000;

    /// <summary>Exit code of a command line that cannot be run (the convention of command-line tools).</summary>
    public const int UsageExitCode = 2;

    /// <summary>Host settings that take a value and carry no colon.</summary>
    private static readonly HashSet<string> _hostSettings = new(StringComparer.OrdinalIgnoreCase)
    {
        "urls", "environment", "contentRoot", "applicationName", "http_ports", "https_ports",
    };

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var i = 0;
        var command = Command.Serve;
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            (command, i) = args[0] switch
            {
                "migrate" => (Command.Migrate, 1),
                "demo-data" => (Command.DemoData, 1),
                "help" => (Command.Help, 1),
                _ => (Command.Serve, -1),
            };
            if (i < 0)
            {
                return new CommandLine(Command.Serve, Error: $"unknown command '{args[0]}'");
            }
        }
        int? patients = null;
        int? seed = null;
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h" or "-?")
            {
                return new CommandLine(Command.Help);
            }
            if (command == Command.DemoData && arg is "--patients" or "--seed")
            {
                if (i + 1 >= args.Count || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    return new CommandLine(command, Error: $"{arg} takes a whole number, e.g. {arg} {(arg == "--seed" ? DefaultSeed : DefaultPatients)}");
                }
                if (arg == "--patients" && value is < 1 or > MaxPatients)
                {
                    return new CommandLine(command, Error: $"--patients must be between 1 and {MaxPatients}");
                }
                if (arg == "--patients")
                {
                    patients = value;
                }
                else
                {
                    seed = value;
                }
                i++;
                continue;
            }
            if (IsSetting(arg, out var takesValue))
            {
                i += takesValue ? 1 : 0;
                continue;
            }
            return new CommandLine(command, Error: $"unknown option '{arg}'"
                + (command == Command.DemoData ? " (demo-data takes --patients N and --seed S)" : ""));
        }
        return new CommandLine(command, patients ?? DefaultPatients, seed ?? DefaultSeed);
    }

    /// <summary>A configuration setting: <c>--Key=value</c>, or <c>--Key value</c> where the key names a section's key (a colon) or a host setting.</summary>
    private static bool IsSetting(string arg, out bool takesValue)
    {
        takesValue = false;
        if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length < 3)
        {
            return false;
        }
        var key = arg[2..];
        if (key.Contains('=', StringComparison.Ordinal))
        {
            return true; // --Key=value assigns a setting, whatever its key
        }
        // --Key value: a section's key or a host setting; anything else is more likely a mistyped option.
        takesValue = true;
        return key.Contains(':', StringComparison.Ordinal) || _hostSettings.Contains(key);
    }

    public const string Usage = """
        Outcomes: patient-reported outcomes after trigger-point botulinum toxin injections.

        Usage:
          Outcomes.Api [settings]                       serve the API (the default)
          Outcomes.Api migrate [settings]               apply pending migrations, then exit
          Outcomes.Api demo-data [--patients N] [--seed S] [settings]
                                                        migrate, then fill an empty database with a synthetic
                                                        clinic (defaults: 300 patients, seed 42), then exit
          Outcomes.Api --help                           this text

        With dotnet run, put them after --:  dotnet run --project src/Outcomes.Api -- demo-data --patients 50

        Settings (any configuration key; also as environment variables, Section__Key=value):
          --urls http://localhost:5293                  where to listen
          --environment Development                     Development reads dotnet user-jwts keys
          --Database:Provider=Sqlite|SqlServer          default Sqlite
          --Database:SqlitePath=data/outcomes.db        the SQLite file
          --ConnectionStrings:Outcomes="..."            the SQL Server database
          --Database:MigrateOnStartup=true|false        default: true for SQLite, false for SQL Server
          README.md lists every setting.

        Exit codes: 0 done; 1 the command failed (one line on standard error says why); 2 a command line that cannot be run.
        """;
}
