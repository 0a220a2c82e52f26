using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A refresh folds a series' tail (the values appended since the last fold) only once it holds
/// <c>Cohorts:Series:FoldAtPoints</c> points; a shorter tail stays, and a cohort reads it with its series.
/// The cohort's answer must be the same with the values in a tail, folded, and rebuilt from the observations.
/// </summary>
public abstract class SeriesTailTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : SeriesTailTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : SeriesTailTests(DatabaseProvider.SqlServer);

    // Tails folded at three points, segments closed at four; no background refresh, no kept cycles (each answer computed from the stored series).
    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Cohorts:Series:RefreshSeconds"] = "0",
        ["Cohorts:Series:FoldAtPoints"] = "3",
        ["Cohorts:Series:SegmentPoints"] = "4",
        ["Cohorts:CachedCycles"] = "0",
    };

    protected override Action<IServiceCollection>? ConfigureServices => services =>
    {
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 6, 30, 12, 0, 0, TimeSpan.Zero)));
        // No cell withheld: every count must be comparable.
        services.Configure<CohortOptions>(o => o.SmallCellThreshold = 0);
    };

    private static readonly string[] _queries =
    [
        "/api/v1/cohorts/outcomes?week=2",
        "/api/v1/cohorts/outcomes?week=6",
        "/api/v1/cohorts/outcomes?week=12",
        "/api/v1/cohorts/duration",
    ];

    private async Task<string[]> AnswersAsync()
    {
        var auditor = App.Auditor();
        var answers = new string[_queries.Length];
        for (var i = 0; i < _queries.Length; i++)
        {
            answers[i] = await auditor.GetStringAsync(_queries[i]);
        }
        return answers;
    }

    private async Task<long> TailPointsAsync()
    {
        await using var connection = await App.OpenDatabaseAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT COALESCE(SUM(point_count), 0) FROM measure_series_tail");
    }

    /// <summary>Marks every patient and refreshes: each series rebuilt from the observations, no tail left.</summary>
    private async Task RebuildAllAsync()
    {
        await SeriesSteps.RebuildAllAsync(App);
        Assert.Equal(0, await TailPointsAsync());
    }

    private static int WithValue(string answer) =>
        JsonDocument.Parse(answer).RootElement.GetProperty("summary").GetProperty("withValue").GetProperty("cycles").GetInt32();

    [SkippableFact]
    public async Task ShortTailsStay_ACohortReadsThem_AndItsAnswerIsTheFoldedAndTheRebuiltOne()
    {
        var siteId = await App.CreateSiteAsync();
        var practitionerId = await App.CreatePractitionerAsync(siteId);
        var patients = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var patientId = await App.CreatePatientAsync(siteId, condition: "neckShoulderPain");
            patients.Add(patientId);
            await CohortCycleCacheTests.SessionAsync(App, siteId, practitionerId, patientId, "2025-03-03", "emg");
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-03-01", 8);
        }
        // The first cohort query builds every series; no value after the sessions yet.
        var before = await AnswersAsync();
        Assert.Equal((0, 0, 0), (WithValue(before[0]), WithValue(before[1]), WithValue(before[2])));
        Assert.Equal(0, await TailPointsAsync());

        // Weeks 2 and 6: two values each, appended to the patients' tails, which a refresh leaves (under three points).
        foreach (var patientId in patients)
        {
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-03-17", 3);
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-04-14", 4);
        }
        var withTails = await AnswersAsync();
        Assert.Equal(6, await TailPointsAsync());
        Assert.Equal((3, 3, 0), (WithValue(withTails[0]), WithValue(withTails[1]), WithValue(withTails[2])));
        await RebuildAllAsync();
        Assert.Equal(withTails, await AnswersAsync());

        // Three values each (week 12 among them): the next refresh folds them.
        foreach (var patientId in patients)
        {
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-05-10", 5);
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-05-20", 4);
            await CohortCycleCacheTests.PainAsync(App, patientId, "2025-05-26", 2);
        }
        Assert.Equal(9, await TailPointsAsync());
        var folded = await AnswersAsync();
        Assert.Equal(0, await TailPointsAsync());
        Assert.Equal(3, WithValue(folded[2]));
        await RebuildAllAsync();
        Assert.Equal(folded, await AnswersAsync());
    }
}
