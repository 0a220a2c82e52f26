// Firely's model marks most elements nullable; these tests read what they have just asserted is there.
#nullable disable warnings

using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;
using Task = System.Threading.Tasks.Task;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>
/// The facade driven by an independent FHIR client, Firely's FhirClient, as an EHR would: capability, conditional
/// create, search and paging, read, and a Bulk Data kick-off; the status polls and the NDJSON downloads (which are
/// not FHIR resources, so FhirClient does not fetch them) go through the same authenticated HTTP stack.
/// </summary>
public abstract class FhirClientTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : FhirClientTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : FhirClientTests(DatabaseProvider.SqlServer);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outcomes-export-test-" + Guid.NewGuid().ToString("N"));

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Fhir:ExportDirectory"] = _directory };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private (FhirClient Client, BearerHandler Handler) Client(string token, bool useAsync = false)
    {
        var handler = new BearerHandler(App.Server.CreateHandler(), token);
        var settings = new FhirClientSettings { PreferredFormat = ResourceFormat.Json, UseAsync = useAsync };
        return (new FhirClient(new Uri(App.Server.BaseAddress, "/fhir"), settings, handler), handler);
    }

    [SkippableFact]
    public async Task AnEhrsFhirClient_ReadsCapability_CreatesOnce_Searches_Reads_AndExports()
    {
        var p = await FhirPatient.CreateAsync(App);
        var (client, handler) = Client(App.Tokens.Create("practitioner", siteId: p.Fixture.SiteId, practitionerId: p.Fixture.PractitionerId));

        var capability = await client.CapabilityStatementAsync();
        Assert.Equal(FHIRVersion.N4_0_1, capability.FhirVersion);

        var submission = Guid.NewGuid();
        var criteria = new SearchParams().Add("identifier", $"urn:ietf:rfc:3986|urn:uuid:{submission}");
        var created = await client.ConditionalCreateAsync(FhirKit.PainScore(p.PatientId, 2, submission, "2025-04-01T09:00:00+02:00"), criteria);
        Assert.Equal(HttpStatusCode.Created, handler.Last.StatusCode);
        var again = await client.ConditionalCreateAsync(FhirKit.PainScore(p.PatientId, 2, submission, "2025-04-01T09:00:00+02:00"), criteria);
        Assert.Equal(HttpStatusCode.OK, handler.Last.StatusCode);
        Assert.Equal(created.Id, again.Id);

        var page = await client.SearchAsync<Observation>(new SearchParams().Where($"patient={p.PatientId}").Where("code=http://loinc.org|72514-3").LimitTo(2));
        var scores = new List<Observation>();
        while (page is not null)
        {
            scores.AddRange(page.Entry.Select(e => e.Resource).OfType<Observation>());
            page = await client.ContinueAsync(page);
        }
        Assert.Equal([7m, 3m, 2m], scores.Select(o => ((Quantity)o.Value).Value));

        var read = await client.ReadAsync<Observation>($"Observation/{created.Id}");
        Assert.Equal(2, ((Quantity)read.Value).Value);
        var patient = await client.ReadAsync<Patient>($"Patient/{p.PatientId}");
        Assert.Equal("1970", patient.BirthDate);

        // Bulk Data: the kick-off through FhirClient's asynchronous request pattern, as an admin.
        var (admin, adminHandler) = Client(App.Tokens.Create("admin", subject: "admin-1"), useAsync: true);
        await admin.WholeSystemOperationAsync("export", null, useGet: true);
        Assert.Equal(HttpStatusCode.Accepted, adminHandler.Last.StatusCode);
        var status = adminHandler.Last.Content.Headers.ContentLocation!.ToString();
        using var http = new HttpClient(new BearerHandler(App.Server.CreateHandler(), App.Tokens.Create("admin", subject: "admin-1")));
        var manifest = await FhirBulkExportTests.ManifestAsync(http, status);
        var files = await FhirBulkExportTests.DownloadAsync(http, manifest);
        Assert.Equal(8, files["Observation"].Count); // the patient's seven records and the score created above
        Assert.Contains(files["Observation"], o => o.Id == created.Id);
    }
}

/// <summary>SMART App Launch discovery, read from the configured OpenID provider's own metadata.</summary>
public sealed class SmartConfigurationTests : IAsyncLifetime
{
    private readonly HttpListener _provider = new();
    private readonly int _port;
    private OutcomesApp? _app;
    private TestDatabase? _database;
    private Task? _serving;

    public SmartConfigurationTests()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        _port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _provider.Prefixes.Add($"http://127.0.0.1:{_port}/");
    }

    private string Authority => $"http://127.0.0.1:{_port}/realm";

    public Task InitializeAsync()
    {
        _provider.Start();
        _serving = Task.Run(async () =>
        {
            while (_provider.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _provider.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                var document = context.Request.Url!.AbsolutePath.EndsWith("/.well-known/openid-configuration", StringComparison.Ordinal)
                    ? JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["issuer"] = Authority,
                        ["authorization_endpoint"] = Authority + "/auth",
                        ["token_endpoint"] = Authority + "/token",
                        ["jwks_uri"] = Authority + "/jwks",
                        ["revocation_endpoint"] = Authority + "/revoke",
                        ["code_challenge_methods_supported"] = new[] { "S256" },
                        ["grant_types_supported"] = new[] { "authorization_code", "refresh_token" },
                        ["response_types_supported"] = new[] { "code" },
                    })
                    : """{"keys":[]}""";
                var bytes = Encoding.UTF8.GetBytes(document);
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        _database = TestDatabase.TryCreate(DatabaseProvider.Sqlite);
        _app = new OutcomesApp(_database!, null, new Dictionary<string, string?>
        {
            ["Authentication:Schemes:Bearer:Authority"] = Authority,
            ["Authentication:Schemes:Bearer:RequireHttpsMetadata"] = "false",
        });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _provider.Stop();
        _provider.Close();
        if (_serving is not null)
        {
            await _serving;
        }
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task WithAnOpenIdProvider_TheSmartConfigurationNamesItsEndpoints_AndTheCapabilityStatementSaysSmart()
    {
        var response = await _app!.Anonymous().GetAsync("/fhir/.well-known/smart-configuration");
        var body = await response.Content.ReadAsStringAsync();
        var statement = await FhirKit.GetValidAsync<CapabilityStatement>(_app.Anonymous(), "/fhir/metadata");

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var smart = JsonDocument.Parse(body);
        Assert.Equal(Authority + "/auth", smart.RootElement.GetProperty("authorization_endpoint").GetString());
        Assert.Equal(Authority + "/token", smart.RootElement.GetProperty("token_endpoint").GetString());
        Assert.Equal(Authority + "/revoke", smart.RootElement.GetProperty("revocation_endpoint").GetString());
        Assert.Equal(["S256"], smart.RootElement.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(smart.RootElement.GetProperty("capabilities").EnumerateArray(), c => c.GetString() == "launch-standalone");
        Assert.Equal("SMART-on-FHIR", statement.Rest[0].Security.Service.Single().Coding.Single().Code);
    }

    [Fact]
    public async Task WithoutAnOpenIdProvider_ThereIsNoSmartConfiguration()
    {
        await using var database = TestDatabase.TryCreate(DatabaseProvider.Sqlite)!;
        await using var app = new OutcomesApp(database, null, null);

        await FhirKit.OutcomeAsync(await app.Anonymous().GetAsync("/fhir/.well-known/smart-configuration"), HttpStatusCode.NotFound);
    }
}
