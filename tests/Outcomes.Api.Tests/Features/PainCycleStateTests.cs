using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Tests.Infrastructure;

using static Outcomes.Api.Tests.Features.SeriesSteps;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// The patient list keeps each patient's current pain cycle state and advances it by the scores appended since,
/// under the same build of the stored series (migration 0021). After appends, a fold, an amendment, an
/// out-of-order value, a withdrawal and a new session, the line's status and onset must be what the same list
/// computes with nothing kept and what the patient's outcomes give for the latest cycle; and each step must
/// take the path expected of it (advanced, used as kept, read again, or read from the observations).
/// </summary>
public abstract class PainCycleStateTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PainCycleStateTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PainCycleStateTests(DatabaseProvider.SqlServer);

    private readonly MovableClock _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    protected override Action<IServiceCollection>? ConfigureServices => services => services.AddSingleton<TimeProvider>(_clock);

    protected override IReadOnlyDictionary<string, string?>? Settings => SeriesSteps.RefreshOnlyWhenAsked;

    /// <summary>
    /// The path the list will take for the patient, from the stored series and the kept state; then the line
    /// (computed with the kept states), the line computed with nothing kept and the latest cycle of the
    /// outcomes, which must agree. Returns the status.
    /// </summary>
    private async Task<string> CheckAsync(PatientFixture f, DateOnly session, string expectedPath)
    {
        var series = await SeriesSteps.PainSeriesAsync(App, f.PatientId);
        var states = App.Services.GetRequiredService<PainCycleCache>();
        var path = series.Stale > 0 ? "observations"
            : !states.TryGet(f.PatientId, session, series.BuildNumber, series.Points, out _, out var read) ? "read"
            : read < series.Points ? (read >= series.SeriesPoints ? "advanced" : "advanced across a fold")
            : "kept";
        Assert.Equal(expectedPath, path);

        App.Services.GetRequiredService<PatientSummaryCache>().Clear();
        var withKept = await LineAsync(f);
        App.Services.GetRequiredService<PatientSummaryCache>().Clear();
        states.Clear();
        var fresh = await LineAsync(f);
        Assert.Equal(fresh, withKept);
        // Kept again for the next step, as it was after the first read.
        App.Services.GetRequiredService<PatientSummaryCache>().Clear();
        Assert.Equal(fresh, await LineAsync(f));

        var latest = (await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("outcomes") + "?measure=pain_nrs&cycles=1", OutcomesApp.Json))
            .GetProperty("measures")[0].GetProperty("cycles")[0];
        Assert.Equal(session.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), latest.GetProperty("session").GetString());
        Assert.Equal((latest.GetProperty("status").GetString(), OnsetOf(latest.GetProperty("onsetDays"))), fresh);
        return fresh.Status!;
    }

    private static int? OnsetOf(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetInt32() : null;

    private static async Task<(string? Status, int? Onset)> LineAsync(PatientFixture f)
    {
        var line = (await f.Practitioner.GetFromJsonAsync<JsonElement>("/api/v1/patients/summaries", OutcomesApp.Json))
            .GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetInt64() == f.PatientId);
        return (line.GetProperty("currentCycleStatus").GetString(), OnsetOf(line.GetProperty("currentCycleOnsetDays")));
    }

    [SkippableFact]
    public async Task TheKeptCycle_AdvancedByAppendedScores_IsTheCycleComputedAfresh_AfterEveryKindOfChange()
    {
        var f = await PatientFixture.CreateAsync(App);
        var session = new DateOnly(2025, 3, 1);
        await PainAsync(f, "2025-02-20", 8);
        await PainAsync(f, "2025-02-27", 6); // baseline (8 + 6) / 2 = 7
        await SessionAsync(f, "2025-03-01");
        await RefreshAsync(App);
        Assert.Equal("noDataYet", await CheckAsync(f, session, "read"));

        await PainAsync(f, "2025-03-04", 6); // 14% relief
        Assert.Equal("notResponding", await CheckAsync(f, session, "advanced"));
        await PainAsync(f, "2025-03-08", 4); // 43%: onset on day 7
        Assert.Equal("responding", await CheckAsync(f, session, "advanced"));

        await RefreshAsync(App); // the two-point tail is folded: the same points, the same build
        Assert.Equal("responding", await CheckAsync(f, session, "kept"));

        await PainAsync(f, "2025-03-15", 1); // 86%
        await PainAsync(f, "2025-03-22", 1); // the best two-report mean relief, 85.71
        await PainAsync(f, "2025-04-12", 3); // 57%
        Assert.Equal("responding", await CheckAsync(f, session, "advanced"));
        await PainAsync(f, "2025-04-19", 4); // 43%: the latest mean, 50, is under two thirds of 85.71
        Assert.Equal("wearingOff", await CheckAsync(f, session, "advanced"));
        await PainAsync(f, "2025-05-10", 5); // 29%: fails
        var last = await PainAsync(f, "2025-05-17", 6); // fails again: lost on 05-10
        await RefreshAsync(App); // folded before the list reads them: the new points are in the series now
        Assert.Equal("lost", await CheckAsync(f, session, "advanced across a fold"));

        // An amendment: the patient is marked, the line reads the observations; rebuilt, a new build is read again.
        await PainAsync(f, "2025-05-17", 3, amends: last); // one failure only: not lost, the latest mean 42.86
        Assert.Equal("wearingOff", await CheckAsync(f, session, "observations"));
        await RefreshAsync(App);
        Assert.Equal("wearingOff", await CheckAsync(f, session, "read"));

        // A value dated before the last one (a failure before onset): marked, rebuilt, read again.
        await PainAsync(f, "2025-03-05", 5);
        await RefreshAsync(App);
        Assert.Equal("wearingOff", await CheckAsync(f, session, "read"));
        Assert.Equal(7, (await LineAsync(f)).Onset);

        // A withdrawn score: the onset report goes, so onset moves to 03-15, day 14.
        var onset = (await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("observations") + "?kind=painScore", OutcomesApp.Json))
            .GetProperty("items").EnumerateArray().Single(o => o.GetProperty("answeredAt").GetString()!.StartsWith("2025-03-08", StringComparison.Ordinal))
            .GetProperty("id").GetInt64();
        await CreatedAsync(f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{onset}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "not my score" }, OutcomesApp.Json));
        await RefreshAsync(App);
        Assert.Equal("wearingOff", await CheckAsync(f, session, "read"));
        Assert.Equal(14, (await LineAsync(f)).Onset);
        await PainAsync(f, "2025-05-24", 6);
        await PainAsync(f, "2025-05-25", 6); // two failures after onset: lost on 05-24
        Assert.Equal("lost", await CheckAsync(f, session, "advanced"));

        // A new session: another cycle, read from its baseline window; scores on its day are its baseline.
        session = new DateOnly(2025, 5, 26);
        await SessionAsync(f, "2025-05-26");
        await RefreshAsync(App);
        Assert.Equal("noDataYet", await CheckAsync(f, session, "read"));
        await PainAsync(f, "2025-05-26", 8); // baseline now (6 + 8) / 2 = 7
        Assert.Equal("noDataYet", await CheckAsync(f, session, "advanced"));
        await PainAsync(f, "2025-05-30", 4);
        Assert.Equal("responding", await CheckAsync(f, session, "advanced"));
    }
}
