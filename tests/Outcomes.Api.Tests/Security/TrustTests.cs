using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Security;

public abstract class AuditTrailTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : AuditTrailTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : AuditTrailTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task AuditEvents_FilterByPatientActionAndActor_WithKeysetPaging()
    {
        var f = await PatientFixture.CreateAsync(App);
        var reader = App.As(App.Tokens.Create("practitioner", siteId: f.SiteId, subject: "dr-reader"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/patients/{f.PatientId}")).StatusCode);
        }

        var page1 = await App.Auditor().GetFromJsonAsync<JsonElement>(
            $"/api/v1/audit-events?patientId={f.PatientId}&action=read&actor=dr-reader&limit=2", OutcomesApp.Json);
        var cursor = page1.GetProperty("nextCursor").GetString();
        var page2 = await App.Auditor().GetFromJsonAsync<JsonElement>(
            $"/api/v1/audit-events?patientId={f.PatientId}&action=read&actor=dr-reader&limit=2&cursor={cursor}", OutcomesApp.Json);

        var events = page1.GetProperty("items").EnumerateArray().Concat(page2.GetProperty("items").EnumerateArray()).ToList();
        Assert.Equal(3, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal("dr-reader", e.GetProperty("actor").GetString());
            Assert.Equal("practitioner", e.GetProperty("role").GetString());
            Assert.Equal("patient", e.GetProperty("resourceType").GetString());
            Assert.Equal("success", e.GetProperty("outcome").GetString());
            Assert.False(string.IsNullOrEmpty(e.GetProperty("requestId").GetString()));
        });
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("nextCursor").ValueKind);
    }

    [SkippableFact]
    public async Task RefusedRequests_AreAudited()
    {
        await App.Anonymous().GetAsync("/api/v1/patients");
        await App.Patient(1).GetAsync("/api/v1/sites");

        await using var connection = await App.OpenDatabaseAsync();
        var refused = (await connection.QueryAsync<(string Outcome, string ResourceId)>(
            "SELECT outcome, resource_id FROM audit_event WHERE action = 'authorize' ORDER BY id")).ToList();
        Assert.Equal([("unauthenticated", "/api/v1/patients"), ("denied", "/api/v1/sites")], refused);
    }

    [SkippableFact]
    public async Task APatient_SeesWhoAccessedTheirRecord_AndNobodyElsesRecord()
    {
        var f = await PatientFixture.CreateAsync(App);
        var other = await App.CreatePatientAsync(f.SiteId);
        await App.As(App.Tokens.Create("practitioner", siteId: f.SiteId, subject: "dr-who")).GetAsync($"/api/v1/patients/{f.PatientId}");

        var log = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("access-log"), OutcomesApp.Json);
        var foreign = await App.Patient(other).GetAsync(f.PathOf("access-log"));

        Assert.Contains(log.GetProperty("items").EnumerateArray(),
            e => e.GetProperty("actor").GetString() == "dr-who" && e.GetProperty("action").GetString() == "read");
        await ProblemAssert.IsProblem(foreign, HttpStatusCode.NotFound);
    }
}

public abstract class RateLimitTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : RateLimitTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : RateLimitTests(DatabaseProvider.SqlServer);

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimiting:PermitLimit"] = "3",
        ["RateLimiting:WindowSeconds"] = "3600", // one window for the whole test: no reset between its requests
    };

    [SkippableFact]
    public async Task AClientOverItsLimit_Gets429WithRetryAfter_WhileOthersAndHealthCarryOn()
    {
        var busy = App.As(App.Tokens.Create("auditor", subject: "busy-client"));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await busy.GetAsync("/api/v1/sites")).StatusCode);
        }
        var last = await busy.GetAsync("/api/v1/sites");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        var problem = await ProblemAssert.IsProblem(last, HttpStatusCode.TooManyRequests);
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc6585#section-4", problem.GetProperty("type").GetString());
        Assert.True(int.Parse(last.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal(HttpStatusCode.OK, (await App.As(App.Tokens.Create("auditor", subject: "calm-client")).GetAsync("/api/v1/sites")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.Anonymous().GetAsync("/health/live")).StatusCode);
    }
}

public abstract class HardeningTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : HardeningTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : HardeningTests(DatabaseProvider.SqlServer);

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Cors:AllowedOrigins:0"] = "https://clinic.example",
    };

    [SkippableFact]
    public async Task DeeplyNestedJson_Returns400AndWritesNothing()
    {
        var f = await PatientFixture.CreateAsync(App);
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);
        var body = $$"""{"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00Z","score":5,"recall":"current","extra":{{nested}}}""";

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblem(response, HttpStatusCode.BadRequest);
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Cors_AllowsOnlyConfiguredOrigins()
    {
        async Task<HttpResponseMessage> Preflight(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/api/v1/sites");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", "authorization");
            return await App.Anonymous().SendAsync(request);
        }

        var allowed = await Preflight("https://clinic.example");
        var other = await Preflight("https://evil.example");

        Assert.Equal("https://clinic.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [SkippableFact]
    public async Task PatientData_IsNeverCached_AndNeverSniffed()
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.Patient.GetAsync($"/api/v1/patients/{f.PatientId}");

        Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }
}

public abstract class LogPrivacyTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : LogPrivacyTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : LogPrivacyTests(DatabaseProvider.SqlServer);

    private readonly CapturingLoggerProvider _logs = new();

    protected override Action<IServiceCollection>? ConfigureServices => services =>
        services.AddLogging(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));

    [SkippableFact]
    public async Task AFullScenario_LeavesNoSubmittedIdentifierInTheLogs()
    {
        const string reference = "LOGSCAN-REF-7731";
        var siteId = await App.CreateSiteAsync("Logscan Site Alpha");
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patientId = await App.CreatePatientAsync(siteId, reference);
        var patient = App.Patient(patientId);
        var submission = Guid.NewGuid();
        await App.Practitioner(siteId).PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-02-01", practitionerId, product = "onabotulinumtoxinA", guidance = "emg", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20 } },
        }, OutcomesApp.Json);
        await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores",
            new { submissionId = submission, answeredAt = "2025-02-08T08:30:00Z", score = 4, recall = "average7Days" }, OutcomesApp.Json);
        await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-09T08:30:00Z", effect = "other", severity = "mild",
            onsetOn = "2025-02-08", note = "LOGSCAN-NOTE-4410",
        }, OutcomesApp.Json);
        await App.Practitioner(siteId).GetAsync($"/api/v1/patients?externalReference={reference}");
        await patient.GetAsync($"/api/v1/patients/{patientId}/outcomes");
        await App.Patient(patientId + 1000).GetAsync($"/api/v1/patients/{patientId}"); // a refused probe
        await patient.PostAsync($"/api/v1/patients/{patientId}/pain-scores",
            new StringContent("{\"score\": \"LOGSCAN-BAD-VALUE\"}", Encoding.UTF8, "application/json"));

        var text = string.Join('\n', _logs.Lines);
        Assert.Contains("/api/v1/patients/{patientId:long}", text, StringComparison.Ordinal); // route templates are logged
        foreach (var secret in new[] { reference, submission.ToString(), "LOGSCAN-NOTE-4410", "LOGSCAN-BAD-VALUE", $"/patients/{patientId}" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }
}

public abstract class ConcurrentWriterTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : ConcurrentWriterTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : ConcurrentWriterTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task ManyClientsWritingForOnePatient_LoseNothing_AndNeverSeeBusy()
    {
        var f = await PatientFixture.CreateAsync(App);
        const int Writers = 48;

        var responses = await Task.WhenAll(Enumerable.Range(0, Writers).Select(i =>
        {
            var client = i % 2 == 0 ? f.Patient : f.Practitioner;
            return client.PostAsJsonAsync(f.PathOf("pain-scores"), new
            {
                submissionId = Guid.NewGuid(), answeredAt = $"2025-03-{1 + i % 28:D2}T08:{i:D2}:00Z", score = i % 11, recall = "average7Days",
            }, OutcomesApp.Json);
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(Writers, await f.CountObservationsAsync());
        var listed = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("observations") + "?limit=500", OutcomesApp.Json);
        Assert.Equal(Writers, listed.GetProperty("items").GetArrayLength());
    }

    [SkippableFact]
    public async Task WritesCommittedTogether_EachAuditEventStillNamesItsOwnCaller()
    {
        // Concurrent writes and reads share transactions (GroupCommit); each event must carry the
        // caller and request of the request it belongs to, not of the one that committed the batch.
        var f = await PatientFixture.CreateAsync(App);
        const int Callers = 24;

        var writes = Enumerable.Range(0, Callers).Select(i =>
            App.As(App.Tokens.Create("practitioner", siteId: f.SiteId, subject: $"writer-{i}")).PostAsJsonAsync(f.PathOf("pain-scores"), new
            {
                submissionId = Guid.NewGuid(), answeredAt = $"2025-03-{1 + i:D2}T08:00:00Z", score = i % 11, recall = "average7Days",
            }, OutcomesApp.Json));
        var reads = Enumerable.Range(0, Callers).Select(i =>
            App.As(App.Tokens.Create("practitioner", siteId: f.SiteId, subject: $"reader-{i}")).GetAsync($"/api/v1/patients/{f.PatientId}"));
        var responses = await Task.WhenAll(writes.Concat(reads));

        Assert.All(responses, r => Assert.True(r.IsSuccessStatusCode, r.StatusCode.ToString()));
        await using var connection = await App.OpenDatabaseAsync();
        var created = (await connection.QueryAsync<(string Actor, string RecordedBy)>("""
            SELECT a.actor, o.recorded_by FROM audit_event a JOIN observation o ON a.resource_id = CAST(o.id AS VARCHAR(20))
            WHERE a.resource_type = 'observation' AND a.action = 'create' AND o.patient_id = @Id
            """, new { Id = f.PatientId })).ToList();
        Assert.Equal(Callers, created.Count);
        Assert.All(created, e => Assert.Equal(e.RecordedBy, e.Actor));
        Assert.Equal(Callers, created.Select(e => e.Actor).Distinct().Count());
        var read = (await connection.QueryAsync<(string Actor, string RequestId)>(
            "SELECT actor, request_id FROM audit_event WHERE resource_type = 'patient' AND action = 'read' AND patient_id = @Id AND actor LIKE 'reader-%'",
            new { Id = f.PatientId })).ToList();
        Assert.Equal(Enumerable.Range(0, Callers).Select(i => $"reader-{i}").Order(), read.Select(e => e.Actor).Order());
        Assert.Equal(Callers, read.Select(e => e.RequestId).Distinct().Count());
    }
}
