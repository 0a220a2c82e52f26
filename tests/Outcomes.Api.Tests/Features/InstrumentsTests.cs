using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class InstrumentsTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : InstrumentsTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : InstrumentsTests(DatabaseProvider.SqlServer);

    /// <summary>A one-item sleep instrument's definition (also added by <see cref="PatientAnswerCacheTests"/>).</summary>
    internal static object Sleep(string version, string name = "Pain interference with sleep, 0-10") => new
    {
        code = "sleep_nrs",
        version,
        name,
        items = new[] { new { code = "sleep", min = 0, max = 10 } },
        scoring = "sum",
        minAnsweredItems = 1,
        direction = "higherIsWorse",
        scoreMin = 0,
        scoreMax = 10,
        minimalImportantChange = 2,
    };

    [SkippableFact]
    public async Task ShippedInstruments_AreListed()
    {
        var list = await App.Patient(1).GetFromJsonAsync<JsonElement[]>("/api/v1/instruments", OutcomesApp.Json);

        Assert.Equal(["headache_days", "hit6", "ndi", "odi", "pain_nrs", "pain_vas", "pgic"],
            list!.Select(i => i.GetProperty("code").GetString()!).Order(StringComparer.Ordinal));
        var ndi = list!.Single(i => i.GetProperty("code").GetString() == "ndi");
        Assert.Equal("percentOfAnswered", ndi.GetProperty("scoring").GetString());
        Assert.Equal(8, ndi.GetProperty("minAnsweredItems").GetInt32());
    }

    [SkippableFact]
    public async Task Admin_AddsAnInstrument_ThatPatientsCanAnswer()
    {
        var f = await PatientFixture.CreateAsync(App);

        var created = await App.Admin().PostAsJsonAsync("/api/v1/instruments", Sleep("1"), OutcomesApp.Json);
        var answered = await f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", instrument = "sleep_nrs", version = "1",
            answers = new[] { new { item = "sleep", value = 7 } },
        });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/instruments/sleep_nrs/1", created.Headers.Location!.ToString());
        Assert.Equal(7m, (await PatientFixture.BodyAsync(answered)).GetProperty("value").GetDecimal());
    }

    [SkippableFact]
    public async Task StoredVersion_NeverChanges_ButANewVersionMayBeAdded()
    {
        await App.Admin().PostAsJsonAsync("/api/v1/instruments", Sleep("1"), OutcomesApp.Json);

        var again = await App.Admin().PostAsJsonAsync("/api/v1/instruments", Sleep("1"), OutcomesApp.Json);
        var shipped = await App.Admin().PostAsJsonAsync("/api/v1/instruments", new
        {
            code = "ndi", version = "1", name = "changed", items = new[] { new { code = "x", min = 0, max = 1 } }, scoring = "sum",
            minAnsweredItems = 1, direction = "higherIsWorse", scoreMin = 0, scoreMax = 1,
        }, OutcomesApp.Json);
        var next = await App.Admin().PostAsJsonAsync("/api/v1/instruments", Sleep("2"), OutcomesApp.Json);

        await ProblemAssert.IsProblem(again, HttpStatusCode.Conflict);
        await ProblemAssert.IsProblem(shipped, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        var ndi = await App.Admin().GetFromJsonAsync<JsonElement>("/api/v1/instruments/ndi/1", OutcomesApp.Json);
        Assert.Equal("Neck Disability Index", ndi.GetProperty("name").GetString());
    }

    [SkippableFact]
    public async Task InvalidDefinition_Returns400NamingEachField()
    {
        var response = await App.Admin().PostAsJsonAsync("/api/v1/instruments", new
        {
            code = "Bad Code", version = "1", name = "x", items = new[] { new { code = "a", min = 5, max = 1 } }, scoring = "sum",
            minAnsweredItems = 3, direction = "higherIsWorse", scoreMin = 0, scoreMax = 10,
        }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "code", "items[0]", "minAnsweredItems");
    }

    [SkippableFact]
    public async Task AddingInstruments_IsForAdminsOnly()
    {
        var response = await App.Practitioner(1).PostAsJsonAsync("/api/v1/instruments", Sleep("1"), OutcomesApp.Json);

        await ProblemAssert.IsProblem(response, HttpStatusCode.Forbidden);
    }
}
