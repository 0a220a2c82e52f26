using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>The clinic's licensed wording: added by an admin to an instrument version, read by every client, kept on record.</summary>
public abstract class InstrumentWordingTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : InstrumentWordingTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : InstrumentWordingTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task AnAdminAddsWording_EveryRoleReadsTheLatest_AndTheEarlierStaysOnRecord()
    {
        var patient = App.Patient(await App.CreatePatientAsync(await App.CreateSiteAsync()));
        await ProblemAssert.IsProblem(await patient.GetAsync("/api/v1/instruments/ndi/1/wording"), HttpStatusCode.NotFound);

        var first = await App.Admin().PutAsJsonAsync("/api/v1/instruments/ndi/1/wording", new { items = new Dictionary<string, string> { ["ndi_01"] = "First wording" } }, OutcomesApp.Json);
        var second = await App.Admin().PutAsJsonAsync("/api/v1/instruments/ndi/1/wording",
            new { title = "About your neck", items = new Dictionary<string, string> { ["ndi_01"] = "Pain intensity, as licensed", ["ndi_02"] = "Personal care, as licensed" } }, OutcomesApp.Json);
        var read = await patient.GetFromJsonAsync<JsonElement>("/api/v1/instruments/ndi/1/wording", OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("About your neck", read.GetProperty("title").GetString());
        Assert.Equal("Personal care, as licensed", read.GetProperty("items").GetProperty("ndi_02").GetString());
        await using var connection = await App.OpenDatabaseAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM instrument_wording";
        Assert.Equal(2L, Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, await App.CountAuditAsync("add_wording", "instrument", null));
    }

    [SkippableFact]
    public async Task WordingForItemsTheVersionDoesNotHave_OrForNoInstrument_IsRefused()
    {
        var unknownItem = await App.Admin().PutAsJsonAsync("/api/v1/instruments/ndi/1/wording",
            new { items = new Dictionary<string, string> { ["ndi_99"] = "x", ["ndi_01"] = new string('x', 501) } }, OutcomesApp.Json);
        var unknownInstrument = await App.Admin().PutAsJsonAsync("/api/v1/instruments/nope/1/wording",
            new { items = new Dictionary<string, string> { ["a"] = "x" } }, OutcomesApp.Json);
        var practitioner = await App.Practitioner(await App.CreateSiteAsync()).PutAsJsonAsync("/api/v1/instruments/ndi/1/wording",
            new { items = new Dictionary<string, string> { ["ndi_01"] = "x" } }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(unknownItem, "items.ndi_99", "items.ndi_01");
        await ProblemAssert.IsProblem(unknownInstrument, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Forbidden, practitioner.StatusCode);
    }
}
