// Firely's model marks most elements nullable; these tests read what they have just asserted is there.
#nullable disable warnings

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hl7.Fhir.Model;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;
using Task = System.Threading.Tasks.Task;

namespace Outcomes.Api.Tests.Fhir;

/// <summary>Bulk Data Access 2.0's asynchronous pattern, run by the service's own background worker.</summary>
public abstract class FhirBulkExportTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : FhirBulkExportTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : FhirBulkExportTests(DatabaseProvider.SqlServer);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outcomes-export-test-" + Guid.NewGuid().ToString("N"));

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Fhir:ExportDirectory"] = _directory,
        ["Fhir:ExportPageSize"] = "10",
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static async Task<HttpResponseMessage> KickOffAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Prefer", "respond-async");
        request.Headers.Add("Accept", "application/fhir+json");
        return await client.SendAsync(request);
    }

    private static string StatusUrl(HttpResponseMessage kickOff)
    {
        Assert.Equal(HttpStatusCode.Accepted, kickOff.StatusCode);
        return Assert.IsType<Uri>(kickOff.Content.Headers.ContentLocation).ToString();
    }

    /// <summary>Polls the status URL as a client would, until the manifest comes (202 until then, with progress).</summary>
    public static async Task<JsonElement> ManifestAsync(HttpClient client, string status)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            var response = await client.GetAsync(status);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
                return await response.Content.ReadFromJsonAsync<JsonElement>();
            }
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.True(response.Headers.Contains("X-Progress"));
            await Task.Delay(100);
        }
        throw new TimeoutException("the export did not finish within a minute");
    }

    /// <summary>Every line of every file: parsed strictly, valid R4, of the type the manifest says.</summary>
    public static async Task<Dictionary<string, List<Resource>>> DownloadAsync(HttpClient client, JsonElement manifest)
    {
        var files = new Dictionary<string, List<Resource>>();
        foreach (var output in manifest.GetProperty("output").EnumerateArray())
        {
            var type = output.GetProperty("type").GetString()!;
            var response = await client.GetAsync(output.GetProperty("url").GetString());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/fhir+ndjson", response.Content.Headers.ContentType?.MediaType);
            var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var resources = lines.Select(FhirKit.Parse<Resource>).ToList();
            Assert.All(resources, r => Assert.Equal(type, r.TypeName));
            Assert.All(resources, FhirKit.AssertValid);
            Assert.Equal(output.GetProperty("count").GetInt64(), resources.Count);
            files[type] = resources;
        }
        return files;
    }

    [SkippableFact]
    public async Task AnAdminsExport_HasEveryRecord_AsValidNdjson()
    {
        var p = await FhirPatient.CreateAsync(App);
        await FhirPatient.CreateAsync(App);
        var admin = App.Admin();

        var kickOff = await KickOffAsync(admin, "/fhir/$export");
        Assert.Equal(HttpStatusCode.Accepted, kickOff.StatusCode);
        var status = StatusUrl(kickOff);
        var manifest = await ManifestAsync(admin, status);
        var files = await DownloadAsync(admin, manifest);

        Assert.True(manifest.GetProperty("requiresAccessToken").GetBoolean());
        Assert.Equal(["Patient", "Observation", "QuestionnaireResponse", "Procedure"], files.Keys);
        Assert.Equal(2, files["Patient"].Count);
        Assert.Equal(14, files["Observation"].Count); // seven records each, the withdrawn one as entered-in-error
        Assert.Equal(2, files["QuestionnaireResponse"].Count);
        Assert.Equal(2, files["Procedure"].Count);
        var amended = files["Observation"].Cast<Observation>().Single(o => o.Id == p.AmendedPainId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(3m, ((Quantity)amended.Value).Value);
        Assert.Equal(1, await App.CountAuditAsync("fhir_export", "fhir_export_job", null));

        // Only the requester reads the job; another admin is told it does not exist.
        var otherAdmin = App.As(App.Tokens.Create("admin", subject: "admin-2"));
        await FhirKit.OutcomeAsync(await otherAdmin.GetAsync(status), HttpStatusCode.NotFound);
        await FhirKit.OutcomeAsync(await otherAdmin.GetAsync(manifest.GetProperty("output")[0].GetProperty("url").GetString()), HttpStatusCode.NotFound);
    }

    [SkippableFact]
    public async Task TypeAndSince_NarrowTheExport_AndAGroupIsASite()
    {
        var p = await FhirPatient.CreateAsync(App);
        await FhirPatient.CreateAsync(App);
        var admin = App.Admin();

        var group = await KickOffAsync(admin, $"/fhir/Group/{p.Fixture.SiteId}/$export?_type=Patient,Procedure");
        var groupFiles = await DownloadAsync(admin, await ManifestAsync(admin, StatusUrl(group)));
        var since = await KickOffAsync(admin, $"/fhir/Patient/$export?_type=Observation&_since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture))}");
        var sinceManifest = await ManifestAsync(admin, StatusUrl(since));

        Assert.Equal(["Patient", "Procedure"], groupFiles.Keys);
        Assert.Equal([p.PatientId.ToString(System.Globalization.CultureInfo.InvariantCulture)], groupFiles["Patient"].Select(r => r.Id));
        Assert.Empty(sinceManifest.GetProperty("output").EnumerateArray());
        await FhirKit.OutcomeAsync(await KickOffAsync(admin, "/fhir/Group/999999/$export"), HttpStatusCode.NotFound);
        await FhirKit.OutcomeAsync(await KickOffAsync(admin, "/fhir/$export?_type=Medication"), HttpStatusCode.BadRequest);
        await FhirKit.OutcomeAsync(await admin.GetAsync("/fhir/$export"), HttpStatusCode.BadRequest); // no Prefer: respond-async
        await FhirKit.OutcomeAsync(await KickOffAsync(App.Practitioner(p.Fixture.SiteId), "/fhir/$export"), HttpStatusCode.Forbidden);
    }

    [SkippableFact]
    public async Task ACancelledExport_IsGone()
    {
        await FhirPatient.CreateAsync(App);
        var admin = App.Admin();

        var kickOff = await KickOffAsync(admin, "/fhir/$export");
        var status = StatusUrl(kickOff);
        var cancel = await admin.DeleteAsync(status);

        // Cancelled before or while it ran: either way the job and its files are gone.
        if (cancel.StatusCode == HttpStatusCode.Accepted)
        {
            await FhirKit.OutcomeAsync(await admin.GetAsync(status), HttpStatusCode.NotFound);
            await FhirKit.OutcomeAsync(await admin.DeleteAsync(status), HttpStatusCode.NotFound);
        }
        else
        {
            // It finished first (a fast machine): then it is a 404 to cancel, and the manifest stands.
            await FhirKit.OutcomeAsync(cancel, HttpStatusCode.NotFound);
        }
        var jobDirectory = Path.Combine(_directory, status[(status.LastIndexOf('/') + 1)..]);
        for (var i = 0; i < 100 && cancel.StatusCode == HttpStatusCode.Accepted && Directory.Exists(jobDirectory); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(cancel.StatusCode != HttpStatusCode.Accepted || !Directory.Exists(jobDirectory));
    }

    [SkippableFact]
    public async Task AnAuditorsExport_IsDeidentified_AndKAnonymous()
    {
        // Twenty-one patients alike (k = 11 by default) and one who stands out by sex: the one is left out, which is within the
        // 5% suppression budget, so nothing needs generalising and dates stay quarters.
        var site = await App.CreateSiteAsync();
        await App.CreatePractitionerAsync(site);
        var alike = new List<long>();
        for (var i = 0; i < 21; i++)
        {
            alike.Add(await App.CreatePatientAsync(site, reference: $"ALIKE-{i}"));
        }
        var odd = await App.CreatePatientAsync(site, reference: "ODD-ONE", sex: "male");
        foreach (var patient in alike.Append(odd))
        {
            var r = await App.Patient(patient).PostAsJsonAsync($"/api/v1/patients/{patient}/side-effects", new
            {
                submissionId = Guid.NewGuid(), answeredAt = "2025-02-10T19:00:00+01:00", effect = "other", severity = "mild", onsetOn = "2025-02-08", note = "private words",
            }, OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        }
        var auditor = App.Auditor();

        var kickOff = await KickOffAsync(auditor, "/fhir/$export");
        var manifest = await ManifestAsync(auditor, StatusUrl(kickOff));
        var files = await DownloadAsync(auditor, manifest);

        Assert.Equal(21, files["Patient"].Count);
        Assert.Equal(21, files["Observation"].Count);
        var text = string.Join("\n", files.Values.SelectMany(v => v).Select(r => JsonSerializer.Serialize(r, r.GetType(), FhirKit.Options)));
        Assert.DoesNotContain("ALIKE-", text, StringComparison.Ordinal);
        Assert.DoesNotContain("private words", text, StringComparison.Ordinal);
        Assert.DoesNotContain("2025-02-10", text, StringComparison.Ordinal);
        Assert.DoesNotContain("2025-02-08", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"identifier\"", text, StringComparison.Ordinal);
        var ids = files["Patient"].Select(p => p.Id).ToHashSet();
        Assert.DoesNotContain(alike[0].ToString(System.Globalization.CultureInfo.InvariantCulture), ids);
        Assert.All(files["Observation"].Cast<Observation>(), o =>
        {
            Assert.Contains(o.Subject.Reference["Patient/".Length..], ids);
            var period = Assert.IsType<Period>(o.Effective);
            Assert.Equal(("2025-01", "2025-03"), (period.Start, period.End));
        });
        Assert.Equal(1, await App.CountAuditAsync("fhir_export_deidentified", "fhir_export_job", null));
    }
}
