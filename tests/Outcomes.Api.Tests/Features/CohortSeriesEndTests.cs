using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

using static Outcomes.Api.Tests.Features.CohortCycleCacheTests;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A cohort query reads only the end of the measure's stored series for the patients whose progress it keeps (the
/// values appended since lie there), and the whole series for any other. Through rounds of writes to many patients
/// and to few (a whole-cohort read and a read by id), with a fold that took more values than the end holds, an
/// amendment, an out-of-order value and a new session, every answer must be the answer computed with nothing kept,
/// and each round must read the series the way expected of it.
/// </summary>
public abstract class CohortSeriesEndTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : CohortSeriesEndTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : CohortSeriesEndTests(DatabaseProvider.SqlServer);

    protected override Action<IServiceCollection>? ConfigureServices => services =>
    {
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 9, 1, 12, 0, 0, TimeSpan.Zero)));
        services.Configure<CohortOptions>(o => o.SmallCellThreshold = 0);
    };

    // Tails of two points are folded at each query's refresh, segments of four points closed (migration 0022); the end
    // read is 100 characters of the open segment, some 7 weekly scores.
    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Cohorts:Series:RefreshSeconds"] = "0", ["Cohorts:Series:FoldAtPoints"] = "2", ["Cohorts:Series:SegmentPoints"] = "4",
        ["Cohorts:SeriesEndCharacters"] = "100",
    };

    // Two windows, so two progresses per patient; the other three queries use the cycles the first one kept.
    private static readonly string[] _queries =
    [
        "/api/v1/cohorts/outcomes",
        "/api/v1/cohorts/outcomes?cycle=first&week=6",
        "/api/v1/cohorts/outcomes?guidance=emg",
        "/api/v1/cohorts/compare?by=guidance&a=emg&b=palpation",
        "/api/v1/cohorts/duration",
    ];

    /// <summary>
    /// Every query with what is kept, then with nothing kept: they must agree. Returns how many series the first pass
    /// read from their ends and how many whole.
    /// </summary>
    private async Task<(long FromEnd, long Whole)> RoundAsync()
    {
        var reader = App.Services.GetRequiredService<CohortReader>();
        var before = reader.SeriesReads;
        var after = before;
        await KeptEqualFreshAsync(App, _queries, afterKept: () => after = reader.SeriesReads);
        return (after.FromEnd - before.FromEnd, after.Whole - before.Whole);
    }

    private readonly Dictionary<long, DateOnly> _lastDay = [];

    /// <summary><paramref name="count"/> weekly scores after the patient's last, alternating 3 and 6.</summary>
    private async Task AppendAsync(long patientId, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var day = _lastDay[patientId] = _lastDay[patientId].AddDays(7);
            await PainAsync(App, patientId, day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), i % 2 == 0 ? 3 : 6);
        }
    }

    [SkippableFact]
    public async Task OnlyTheNewValuesAreReadFromTheSeriesEnd_AndTheAnswersEqualFreshOnes()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        // Six patients with a session on 02-03, a baseline of 8 and three weekly scores; a seventh with a session and no score.
        var patients = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            var patientId = await App.CreatePatientAsync(siteId, condition: "neckShoulderPain");
            await SessionAsync(App, siteId, practitionerId, patientId, "2025-02-03", i % 2 == 0 ? "emg" : "palpation");
            if (i < 6)
            {
                patients.Add(patientId);
                await PainAsync(App, patientId, "2025-02-01", 8);
                _lastDay[patientId] = new DateOnly(2025, 2, 1);
                await AppendAsync(patientId, 3);
            }
        }
        // Nothing kept yet: every series read whole, in both windows.
        Assert.Equal((0, 12), await RoundAsync());

        // One value for every patient: the whole cohort is read, each series from its end.
        foreach (var p in patients)
        {
            await AppendAsync(p, 1);
        }
        Assert.Equal((12, 0), await RoundAsync());

        // Ten for the first (folded: more than the end holds, so read whole), one for the others.
        await AppendAsync(patients[0], 10);
        foreach (var p in patients.Skip(1))
        {
            await AppendAsync(p, 1);
        }
        Assert.Equal((10, 2), await RoundAsync());

        // One value for two patients: read by id, from their ends.
        await AppendAsync(patients[1], 1);
        await AppendAsync(patients[2], 1);
        Assert.Equal((4, 0), await RoundAsync());

        // An amendment of the second patient's last value (a new build of the series): read whole, by id.
        var last = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/patients/{patients[1]}/observations?kind=painScore", OutcomesApp.Json))
            .GetProperty("items").EnumerateArray().MaxBy(o => o.GetProperty("answeredAt").GetDateTimeOffset());
        await CreatedAsync(App.Patient(patients[1]).PostAsJsonAsync($"/api/v1/patients/{patients[1]}/pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = last.GetProperty("answeredAt").GetString(), score = 9, recall = "average7Days",
            amends = last.GetProperty("id").GetInt64(), reason = "typed the wrong number",
        }, OutcomesApp.Json));
        Assert.Equal((0, 2), await RoundAsync());

        // A value dated before the third patient's last (a rebuild) and one appended for three others: the whole cohort,
        // the third patient's series whole, every other from its end (those not written too, with nothing new).
        await PainAsync(App, patients[2], "2025-02-20", 2);
        foreach (var p in patients.Skip(3))
        {
            await AppendAsync(p, 1);
        }
        Assert.Equal((10, 2), await RoundAsync());

        // A second session for the fourth patient (other cycles): read whole, by id.
        await SessionAsync(App, siteId, practitionerId, patients[3], _lastDay[patients[3]].AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), "emg");
        Assert.Equal((0, 2), await RoundAsync());

        // One value for the fourth patient (its rebuild left 4 points closed, 3 open: the value goes to the tail) and
        // one for the fifth (whose tail of 2 is folded into an open segment of 2, closing it: the value it has not read
        // is now in a closed segment, not in the end read). By id: the fourth from its end, the fifth whole.
        await AppendAsync(patients[3], 1);
        await AppendAsync(patients[4], 1);
        Assert.Equal((2, 2), await RoundAsync());
    }
}
