using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Outcomes.Api.Infrastructure;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Data;

/// <summary>
/// What an operator meets, tried on the service as a process of its own: files that are not an
/// Outcomes database, a directory it may not write, a disk that fills up. Each start-up failure is
/// one line naming the cause and the file, with exit code 1 (not an abort with a stack trace).
/// </summary>
public sealed class OperatorFailureTests : ProcessTestBase
{

    [Fact]
    public async Task StartUp_OnAFileThatIsNotADatabase_ExitsWithOneLineNamingTheFile()
    {
        await File.WriteAllTextAsync(DatabasePath, string.Concat(Enumerable.Repeat("These are a clinic's notes, not a database.\n", 100)));

        var line = await FailedStartAsync();

        Assert.Contains(DatabasePath, line, StringComparison.Ordinal);
        Assert.Contains("is not an SQLite database", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartUp_OnADatabaseThatANewerBuildMigrated_ExitsWithOneLineNamingTheMigration()
    {
        SqliteSchema.CreateMigrated(DatabasePath);
        await using (var connection = new SqliteConnection($"Data Source={DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_version (ScriptName, Applied) VALUES ('migrations.sqlite.9999_from_a_newer_build.sql', datetime('now'));";
            await command.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();

        var line = await FailedStartAsync();

        Assert.Contains(DatabasePath, line, StringComparison.Ordinal);
        Assert.Contains("9999_from_a_newer_build.sql", line, StringComparison.Ordinal);
        Assert.Contains("newer Outcomes", line, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task StartUp_InADirectoryItMayNotWrite_ExitsWithOneLineNamingTheFile()
    {
        Skip.If(ServiceProcess.NamespaceUnavailable is not null, ServiceProcess.NamespaceUnavailable);
        SqliteSchema.CreateMigrated(DatabasePath);
        SqliteConnection.ClearAllPools();

        var line = await FailedStartAsync($"mount --bind '{Directory}' '{Directory}'; mount -o remount,bind,ro '{Directory}'");

        Assert.Contains(DatabasePath, line, StringComparison.Ordinal);
        Assert.Matches("read-only|cannot be opened", line);
    }

    [SkippableFact]
    public async Task FullDisk_Answers507_ReadinessSaysSo_AndBothRecoverWhenSpaceReturns()
    {
        Skip.If(ServiceProcess.NamespaceUnavailable is not null, ServiceProcess.NamespaceUnavailable);
        await using var service = await ServiceProcess.StartListeningAsync(
            new Dictionary<string, string> { ["Database:SqlitePath"] = DatabasePath },
            $"mount -t tmpfs -o size=16m tmpfs '{Directory}'");
        using var admin = service.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/ready")).StatusCode);
        var patientId = await CreatePatientAsync(admin);

        // Fill the service's disk (its tmpfs, seen through /proc) to the last byte.
        var ballast = $"/proc/{service.ProcessId}/root{Directory}/ballast";
        await FillAsync(ballast);

        HttpResponseMessage? full = null;
        Guid refused = default;
        for (var i = 0; i < 500 && full is null; i++)
        {
            var submission = Guid.NewGuid();
            var response = await admin.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", PainScore(submission, i));
            if (response.StatusCode != HttpStatusCode.Created)
            {
                (full, refused) = (response, submission);
            }
        }
        Assert.NotNull(full);
        var problem = await ProblemAssert.IsProblem(full, HttpStatusCode.InsufficientStorage);
        Assert.Equal("Storage full", problem.GetProperty("title").GetString());
        Assert.True(full.Headers.RetryAfter is not null, "a 507 says when to retry");
        var notReady = await ProblemAssert.IsProblem(await admin.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable);
        Assert.Contains("storage is full", notReady.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("SQLite error 13", service.StandardOutput, StringComparison.Ordinal);

        File.Delete(ballast);

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/ready")).StatusCode);
        // The refused submission was not stored: sent again, it is created, not replayed.
        var again = await admin.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", PainScore(refused, 0));
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
    }

    [Fact]
    public async Task KilledMidIngest_LosesNoAcknowledgedWrite_AndResendingDuplicatesNothing()
    {
        var settings = new Dictionary<string, string> { ["Database:SqlitePath"] = DatabasePath };
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        var sent = new System.Collections.Concurrent.ConcurrentDictionary<Guid, object>();
        long patientId;
        await using (var service = await ServiceProcess.StartListeningAsync(settings))
        {
            using var admin = service.Admin();
            patientId = await CreatePatientAsync(admin);
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 8).Select(async w =>
            {
                using var client = service.Admin();
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var submission = Guid.NewGuid();
                    var body = sent[submission] = PainScore(submission, i % 400);
                    try
                    {
                        var response = await client.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", body);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            acknowledged.Add(submission);
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // the process is gone
                    }
                }
            }).ToList();
            while (acknowledged.Count < 300)
            {
                await Task.Delay(20);
            }
            service.Kill(); // SIGKILL, in the middle of the writers
            stop.Cancel();
            await Task.WhenAll(writers);
        }

        await using var restarted = await ServiceProcess.StartListeningAsync(settings);
        using var again = restarted.Admin();
        var stored = 0;
        foreach (var (submission, body) in sent)
        {
            // Resending everything, byte for byte: an acknowledged write must be found (200, the stored one), never created anew.
            var response = await again.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", body);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                stored++;
            }
            else
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                Assert.DoesNotContain(submission, acknowledged);
            }
        }
        Assert.True(stored >= acknowledged.Count, $"{acknowledged.Count} acknowledged, {stored} found");
        // Every submission is now stored exactly once.
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM observation";
        Assert.Equal((long)sent.Count, (long)(await count.ExecuteScalarAsync())!);
    }

    /// <summary>Starts the service, expecting it to fail: exit code 1, one line on standard error, no stack trace anywhere.</summary>
    private async Task<string> FailedStartAsync(string? mountScript = null)
    {
        await using var service = ServiceProcess.Start(new Dictionary<string, string> { ["Database:SqlitePath"] = DatabasePath }, mountScript);

        var exitCode = await service.WaitForExitAsync(TimeSpan.FromSeconds(60));

        var output = service.StandardOutput + service.StandardError;
        Assert.True(exitCode == StartupFailure.ExitCode, $"exit code {exitCode}:\n{output}");
        var lines = service.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"one line on standard error, got:\n{service.StandardError}");
        Assert.StartsWith("Outcomes cannot start: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        return lines[0];
    }

    private static async Task<long> CreatePatientAsync(HttpClient admin)
    {
        var site = await admin.PostAsJsonAsync("/api/v1/sites", new { name = "Disk Site" });
        var siteId = (await site.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var patient = await admin.PostAsJsonAsync("/api/v1/patients", new
        {
            externalReference = "DISK-1", siteId, birthYear = 1970, sex = "female", enrolledOn = "2025-01-15", conditions = new[] { "myofascialPainSyndrome" },
        });
        Assert.Equal(HttpStatusCode.Created, patient.StatusCode);
        return (await patient.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private static object PainScore(Guid submissionId, int minutesAgo) => new
    {
        submissionId,
        answeredAt = DateTimeOffset.UtcNow.AddMinutes(-minutesAgo - 1).ToString("yyyy-MM-ddTHH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture),
        score = 4,
        recall = "average7Days",
    };

    private static async Task FillAsync(string path)
    {
        var block = new byte[64 * 1024];
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
            {
                await file.WriteAsync(block);
                await file.FlushAsync();
            }
        }
        catch (IOException)
        {
            // No space left: the disk is full, as intended. Top up what a smaller write still fits.
        }
        block = new byte[512];
        try
        {
            while (true)
            {
                await file.WriteAsync(block);
                await file.FlushAsync();
            }
        }
        catch (IOException)
        {
        }
    }
}
