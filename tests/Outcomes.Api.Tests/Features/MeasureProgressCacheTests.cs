using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Outcomes.Api.Data;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Tests.Infrastructure;

using static Outcomes.Api.Tests.Features.SeriesSteps;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A patient's trend and outcomes are read through each measure's kept progress, advanced by the values appended
/// since, under the same build of the stored series (migration 0021) and the same sessions. After appends, a fold,
/// an amendment, an out-of-order value, a withdrawal and a new session, every answer (the pain trend, the outcomes of
/// every measure and of pain alone) must be what the service answers with nothing kept; and each step must take the
/// path expected of it (advanced, used as kept, read again, or read from the observations).
/// </summary>
public abstract class MeasureProgressCacheTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : MeasureProgressCacheTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : MeasureProgressCacheTests(DatabaseProvider.SqlServer);

    private readonly MovableClock _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    protected override Action<IServiceCollection>? ConfigureServices => services => services.AddSingleton<TimeProvider>(_clock);

    // No answer kept (PatientAnswerCacheTests): every trend and outcomes read here goes through the kept progress.
    protected override IReadOnlyDictionary<string, string?>? Settings { get; } =
        new Dictionary<string, string?>(SeriesSteps.RefreshOnlyWhenAsked) { ["Outcomes:KeptAnswerMegabytes"] = "0" };

    private readonly List<DateOnly> _sessions = [];

    /// <summary>
    /// The path the pain measure's read will take, from the stored series and the kept progress; then every answer
    /// with the progress kept, with nothing kept, and with it kept again, which must all agree.
    /// </summary>
    private async Task CheckAsync(PatientFixture f, string expectedPath)
    {
        var series = await SeriesSteps.PainSeriesAsync(App, f.PatientId);
        var kept = App.Services.GetRequiredService<MeasureProgressCache>();
        var pain = (await App.Services.GetRequiredService<MeasureCatalog>().ResolveAsync("pain_nrs", default))!;
        var rule = App.Services.GetRequiredService<IOptions<OutcomesOptions>>().Value.Rule;
        var path = series.Stale > 0 ? "observations"
            : !kept.TryGet(new MeasureProgressCache.Key(f.PatientId, "painScore", "pain_nrs"), series.BuildNumber, series.Points, pain, rule,
                [.. _sessions.Distinct().Order()], out _, out var read) ? "read"
            : read < series.Points ? (read >= series.SeriesPoints ? "advanced" : "advanced across a fold")
            : "kept";
        Assert.Equal(expectedPath, path);

        var withKept = await AnswersAsync(f);
        kept.Clear();
        var fresh = await AnswersAsync(f);
        Assert.Equal(fresh, withKept);
        Assert.Equal(fresh, await AnswersAsync(f));
    }

    private static async Task<string> AnswersAsync(PatientFixture f)
    {
        var answers = new List<string>();
        foreach (var path in new[] { "trend?measure=pain_nrs", "trend?measure=cervical_flexion", "outcomes", "outcomes?measure=pain_nrs&cycles=1" })
        {
            using var response = await f.Practitioner.GetAsync($"/api/v1/patients/{f.PatientId}/{path}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            answers.Add(body);
        }
        return string.Join("\n", answers);
    }

    private static Task<long> FlexionAsync(PatientFixture f, string day, decimal degrees) =>
        CreatedAsync(f.PostAsync(f.Practitioner, "range-of-motion", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T10:00:00Z", movement = "cervical_flexion", degrees, method = "goniometer",
        }));

    /// <summary>A new session, noted as one of the sessions the kept progress must have been read with.</summary>
    private Task<long> NewSessionAsync(PatientFixture f, string day)
    {
        _sessions.Add(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture));
        return SessionAsync(f, day);
    }

    [SkippableFact]
    public async Task TheKeptProgress_AdvancedByAppendedValues_AnswersAsTheHistoryReadAfresh_AfterEveryKindOfChange()
    {
        var f = await PatientFixture.CreateAsync(App);
        await PainAsync(f, "2025-02-20", 8);
        await PainAsync(f, "2025-02-27", 6);
        await FlexionAsync(f, "2025-02-27", 30);
        await NewSessionAsync(f, "2025-03-01");
        await RefreshAsync(App);
        await CheckAsync(f, "read");

        await PainAsync(f, "2025-03-04", 6);
        await CheckAsync(f, "advanced");
        await PainAsync(f, "2025-03-08", 4);
        await FlexionAsync(f, "2025-03-10", 38);
        await CheckAsync(f, "advanced");

        await RefreshAsync(App); // the two-point tail is folded: the same points, the same build
        await CheckAsync(f, "kept");

        await PainAsync(f, "2025-03-15", 1);
        await PainAsync(f, "2025-03-15", 2); // two on one day
        await PainAsync(f, "2025-03-22", 1);
        await PainAsync(f, "2025-04-12", 3);
        await FlexionAsync(f, "2025-04-12", 45);
        await CheckAsync(f, "advanced");
        await PainAsync(f, "2025-05-10", 5);
        var last = await PainAsync(f, "2025-05-17", 6);
        await RefreshAsync(App); // folded before the read: the new points are in the series now
        await CheckAsync(f, "advanced across a fold");

        // An amendment: the patient is marked, the read goes to the observations; rebuilt, a new build is read again.
        await PainAsync(f, "2025-05-17", 3, amends: last);
        await CheckAsync(f, "observations");
        await RefreshAsync(App);
        await CheckAsync(f, "read");

        // A value dated before the last one: marked, rebuilt, read again.
        await PainAsync(f, "2025-03-05", 5);
        await RefreshAsync(App);
        await CheckAsync(f, "read");

        // A withdrawn score.
        var onset = (await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("observations") + "?kind=painScore", OutcomesApp.Json))
            .GetProperty("items").EnumerateArray().Single(o => o.GetProperty("answeredAt").GetString()!.StartsWith("2025-03-08", StringComparison.Ordinal))
            .GetProperty("id").GetInt64();
        await CreatedAsync(f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{onset}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "not my score" }, OutcomesApp.Json));
        await RefreshAsync(App);
        await CheckAsync(f, "read");
        await PainAsync(f, "2025-05-24", 6);
        await PainAsync(f, "2025-05-25", 6);
        await CheckAsync(f, "advanced");

        // A new session: other cycles, so the progress is read again, then advanced in the new cycle.
        await NewSessionAsync(f, "2025-05-26");
        await RefreshAsync(App);
        await CheckAsync(f, "read");
        await PainAsync(f, "2025-05-26", 8);
        await FlexionAsync(f, "2025-05-27", 33);
        await CheckAsync(f, "advanced");
        await PainAsync(f, "2025-05-30", 4);
        _clock.Now = _clock.Now.AddDays(200); // windows close with the calendar, not with a write
        await CheckAsync(f, "advanced");
    }
}
