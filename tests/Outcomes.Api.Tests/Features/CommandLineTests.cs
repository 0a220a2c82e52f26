using Outcomes.Api.Infrastructure;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>The operator's command line: help, strict options, and what demo-data prints when no terminal is attached.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("outcomes-cli-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(new string[0], Command.Serve)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:5999" }, Command.Serve)]
    [InlineData(new[] { "--Database:Provider=Sqlite", "--environment", "Development" }, Command.Serve)]
    [InlineData(new[] { "migrate", "--Database:SqlitePath", "x.db" }, Command.Migrate)]
    [InlineData(new[] { "demo-data", "--patients", "50", "--seed", "7" }, Command.DemoData)]
    [InlineData(new[] { "--help" }, Command.Help)]
    [InlineData(new[] { "demo-data", "-h" }, Command.Help)]
    public void ValidCommandLines_Parse(string[] args, Command expected)
    {
        var parsed = CommandLine.Parse(args);

        Assert.Null(parsed.Error);
        Assert.Equal(expected, parsed.Command);
    }

    [Fact]
    public void DemoDataOptions_AreRead_WithTheirDefaultsOtherwise()
    {
        Assert.Equal((50, 7), (CommandLine.Parse(["demo-data", "--patients", "50", "--seed", "7"]) is var a ? (a.Patients, a.Seed) : default));
        Assert.Equal((CommandLine.DefaultPatients, CommandLine.DefaultSeed), (CommandLine.Parse(["demo-data"]) is var b ? (b.Patients, b.Seed) : default));
    }

    [Theory]
    [InlineData(new[] { "demo-data", "--patients", "abc" }, "--patients takes a whole number")]
    [InlineData(new[] { "demo-data", "--patients", "0" }, "--patients must be between")]
    [InlineData(new[] { "demo-data", "--patients" }, "--patients takes a whole number")]
    [InlineData(new[] { "demo-data", "--patient", "5" }, "unknown option '--patient'")]
    [InlineData(new[] { "demo-date" }, "unknown command 'demo-date'")]
    [InlineData(new[] { "--verbose" }, "unknown option '--verbose'")]
    [InlineData(new[] { "migrate", "--seed", "3" }, "unknown option '--seed'")]
    public void BadCommandLines_AreRefused_NotDefaulted(string[] args, string error)
    {
        var parsed = CommandLine.Parse(args);

        Assert.NotNull(parsed.Error);
        Assert.StartsWith(error, parsed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsTheCommandsAndExits()
    {
        await using var process = ServiceProcess.Start(new Dictionary<string, string>(), null, "--help");

        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("demo-data [--patients N] [--seed S]", process.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("migrate", process.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadOption_ExitsWith2AndAMessage_WithoutTouchingTheDatabase()
    {
        var database = Path.Combine(_directory, "o.db");
        await using var process = ServiceProcess.Start(new Dictionary<string, string> { ["Database:SqlitePath"] = database }, null, "demo-data", "--patients", "abc");

        Assert.Equal(CommandLine.UsageExitCode, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("--patients takes a whole number", process.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(database));
    }

    [Fact]
    public async Task DemoData_WithoutATerminal_PrintsPlainProgressLines_AndASummaryForAPerson()
    {
        await using var process = ServiceProcess.Start(
            new Dictionary<string, string> { ["Database:SqlitePath"] = Path.Combine(_directory, "o.db") }, null, "demo-data", "--patients", "20", "--seed", "3");

        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        var output = process.StandardOutput;
        var progress = output.Split('\n').Where(l => l.StartsWith("demo-data: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(10, progress.Count); // one line at every tenth of 20 patients
        Assert.Contains("demo-data: 20 of 20 patients generated", output, StringComparison.Ordinal);
        Assert.Contains("20 patients", output, StringComparison.Ordinal);
        Assert.Contains("--claim site_id=1", output, StringComparison.Ordinal);
        Assert.Contains("--claim patient_id=1 ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Summary {", output, StringComparison.Ordinal);
    }
}
