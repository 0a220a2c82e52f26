using System.Net.Http.Json;
using System.Text.Json;

namespace Outcomes.Api.Tests.Infrastructure;

/// <summary>A site with a practitioner and one patient enrolled on 2025-01-15, and clients for them.</summary>
public sealed record PatientFixture(OutcomesApp App, long SiteId, long PractitionerId, long PatientId)
{
    public static async Task<PatientFixture> CreateAsync(OutcomesApp app)
    {
        var siteId = await app.CreateSiteAsync();
        var practitionerId = await app.CreatePractitionerAsync(siteId);
        var patientId = await app.CreatePatientAsync(siteId);
        return new PatientFixture(app, siteId, practitionerId, patientId);
    }

    public HttpClient Patient => App.Patient(PatientId);

    public HttpClient Practitioner => App.Practitioner(SiteId);

    public string PathOf(string kind) => $"/api/v1/patients/{PatientId}/{kind}";

    public Task<HttpResponseMessage> PostAsync(HttpClient client, string kind, object body) =>
        client.PostAsJsonAsync(PathOf(kind), body, OutcomesApp.Json);

    public async Task<long> CountObservationsAsync()
    {
        await using var connection = await App.OpenDatabaseAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM observation";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task<JsonElement> BodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
}
