using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Infrastructure;

namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>The service in-process on a fresh test database, with clients for each role.</summary>
public sealed class OutcomesApp : WebApplicationFactory<Program>
{
    public static readonly JsonSerializerOptions Json = CreateJson();

    private readonly TestDatabase _database;
    private readonly Action<IServiceCollection>? _configureServices;

    private readonly IReadOnlyDictionary<string, string?> _settings;

    public OutcomesApp(
        TestDatabase database, Action<IServiceCollection>? configureServices = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        _database = database;
        _configureServices = configureServices;
        _settings = settings ?? new Dictionary<string, string?>();
    }

    /// <summary>Defaults for every test: a rate limit no test reaches unless it means to.</summary>
    private static readonly Dictionary<string, string?> _testDefaults = new()
    {
        ["RateLimiting:PermitLimit"] = "100000",
        ["RateLimiting:TokenPermitLimit"] = "100000",
        // Signs the tokens of paired devices in the tests (32 bytes, base64).
        ["Devices:SigningKey"] = "dGVzdHMtb25seS1kZXZpY2Utc2lnbmluZy1rZXktMDEyMzQ1Njc4OQ==",
    };

    public TestTokens Tokens { get; } = new();

    /// <summary>Tables that hold clinic data (not the audit trail).</summary>
    public static readonly string[] ClinicalTables =
        ["site", "practitioner", "patient", "patient_condition", "treatment_session", "injection_site"];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _database.Settings.Concat(Tokens.Settings).Concat(_testDefaults).Concat(_settings))
        {
            builder.UseSetting(key, value);
        }
        if (_configureServices is not null)
        {
            builder.ConfigureTestServices(_configureServices);
        }
    }

    public HttpClient Anonymous() => CreateClient();

    public HttpClient As(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public HttpClient Admin() => As(Tokens.Create(Roles.Admin, subject: "admin-1"));

    public HttpClient Auditor() => As(Tokens.Create(Roles.Auditor));

    /// <summary>A practitioner of the site: the first practitioner record created there, when there is one.</summary>
    public HttpClient Practitioner(long siteId) =>
        As(Tokens.Create(Roles.Practitioner, siteId: siteId, practitionerId: _practitionerOfSite.TryGetValue(siteId, out var id) ? id : null));

    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, long> _practitionerOfSite = new();

    public HttpClient Patient(long patientId) => As(Tokens.Create(Roles.Patient, patientId: patientId));

    public async Task<DbConnection> OpenDatabaseAsync() =>
        await Services.GetRequiredService<Database>().OpenAsync(CancellationToken.None);

    /// <summary>Row counts of the clinical tables, to prove that a refused request wrote nothing.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountRowsAsync()
    {
        await using var connection = await OpenDatabaseAsync();
        var counts = new Dictionary<string, long>();
        foreach (var table in ClinicalTables)
        {
            counts[table] = await connection.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM {table}");
        }
        return counts;
    }

    public async Task<long> CountAuditAsync(string action, string resourceType, long? patientId, string outcome = "success")
    {
        await using var connection = await OpenDatabaseAsync();
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM audit_event WHERE action = @action AND resource_type = @resourceType"
            + " AND (patient_id = @patientId OR (@patientId IS NULL AND patient_id IS NULL)) AND outcome = @outcome",
            new { action, resourceType, patientId, outcome });
    }

    // Seeding through the API itself, as an admin.

    public async Task<long> CreateSiteAsync(string? name = null)
    {
        var response = await Admin().PostAsJsonAsync("/api/v1/sites", new { name = name ?? $"Site {Guid.NewGuid():N}" }, Json);
        return await IdOf(response);
    }

    public async Task<long> CreatePractitionerAsync(long siteId)
    {
        var response = await Admin().PostAsJsonAsync("/api/v1/practitioners", new { siteId, displayName = "Dr Test" }, Json);
        var id = await IdOf(response);
        _practitionerOfSite.TryAdd(siteId, id);
        return id;
    }

    public async Task<long> CreatePatientAsync(long siteId, string? reference = null, string condition = "myofascialPainSyndrome", string sex = "female")
    {
        var response = await Admin().PostAsJsonAsync("/api/v1/patients", new
        {
            externalReference = reference ?? $"REF-{Guid.NewGuid():N}"[..12],
            siteId,
            birthYear = 1970,
            sex,
            enrolledOn = "2025-01-15",
            conditions = new[] { condition },
        }, Json);
        return await IdOf(response);
    }

    private static async Task<long> IdOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("id").GetInt64();
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        JsonSetup.Configure(options);
        return options;
    }
}

/// <summary>
/// Base of every database-backed API test class. Each test gets a fresh database; the SQL Server
/// variant of a class is skipped, with the reason, where no SQL Server is configured.
/// </summary>
public abstract class ApiTestBase(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase? _database;
    private OutcomesApp? _app;

    protected DatabaseProvider Provider => provider;

    protected OutcomesApp App
    {
        get
        {
            Skip.If(_app is null, TestDatabase.SkipReason);
            return _app!;
        }
    }

    protected virtual Action<IServiceCollection>? ConfigureServices => null;

    /// <summary>Configuration this test class needs beyond the defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    public Task InitializeAsync()
    {
        _database = TestDatabase.TryCreate(provider);
        if (_database is not null)
        {
            _app = new OutcomesApp(_database, ConfigureServices, Settings);
            _ = _app.Server; // start now: migrations run at start-up
        }
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
