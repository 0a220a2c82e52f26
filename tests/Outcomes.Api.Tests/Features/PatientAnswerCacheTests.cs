using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.PatientOutcomes;
using Outcomes.Api.Tests.Infrastructure;

using static Outcomes.Api.Tests.Features.SeriesSteps;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// A patient's trend and outcomes answers are kept as written and written again while what they were computed under holds: the
/// patient's change counter, the instruments and the day. Before every kind of change the test plants a marker answer
/// under what holds then, and the service must answer with it (the kept path is taken); after the change it must not,
/// and must answer exactly as the service does with nothing kept; and each change must show in the answer. An answer is
/// kept only when computed a second time under the same counters: the first is streamed, the second kept, the third
/// written from what was kept, and all three are the same bytes.
/// </summary>
public abstract class PatientAnswerCacheTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PatientAnswerCacheTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PatientAnswerCacheTests(DatabaseProvider.SqlServer);

    private readonly MovableClock _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    protected override Action<IServiceCollection>? ConfigureServices => services => services.AddSingleton<TimeProvider>(_clock);

    private static readonly string[] _paths =
        ["outcomes", "outcomes?measure=pain_nrs&cycles=1", "outcomes?measure=sleep_nrs", "trend?measure=pain_nrs", "trend?measure=sleep_nrs"];

    private static PatientAnswerCache.Key KeyOf(long patientId, string path) => path switch
    {
        "outcomes" => new(patientId, "outcomes", null, null),
        "outcomes?measure=pain_nrs&cycles=1" => new(patientId, "outcomes", "pain_nrs", 1),
        "outcomes?measure=sleep_nrs" => new(patientId, "outcomes", "sleep_nrs", null),
        "trend?measure=pain_nrs" => new(patientId, "trend", "pain_nrs", null),
        _ => new(patientId, "trend", "sleep_nrs", null),
    };

    private static byte[] Marker(string path) => Encoding.UTF8.GetBytes($$"""{"kept":"{{path}}"}""");

    private PatientAnswerCache Answers => App.Services.GetRequiredService<PatientAnswerCache>();

    private DateOnly Today => DateOnly.FromDateTime(_clock.Now.UtcDateTime);

    private async Task<AnswerGenerations> GenerationsAsync(long patientId)
    {
        await using var connection = await App.OpenDatabaseAsync();
        return await connection.QuerySingleAsync<AnswerGenerations>(
            App.Services.GetRequiredService<PatientOutcomesSql>().AnswerGenerations, new { PatientId = patientId });
    }

    private static async Task<string> GetAsync(PatientFixture f, string path)
    {
        using var response = await f.Practitioner.GetAsync(f.PathOf(path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return body;
    }

    /// <summary>Every path's answer as the service gives it with nothing kept.</summary>
    private async Task<List<string>> FreshAsync(PatientFixture f)
    {
        Answers.Clear();
        var fresh = new List<string>();
        foreach (var path in _paths)
        {
            fresh.Add(await GetAsync(f, path));
        }
        return fresh;
    }

    /// <summary>
    /// Plants a marker answer for every path under what holds now and checks the service writes it; makes the
    /// change; then every answer must be the one computed with nothing kept, and differ from before the change.
    /// </summary>
    private async Task ChangeAsync(PatientFixture f, string change, Func<Task> make)
    {
        var before = await FreshAsync(f);
        var planted = await GenerationsAsync(f.PatientId);
        foreach (var path in _paths)
        {
            Answers.Set(KeyOf(f.PatientId, path), planted, Today, Marker(path));
        }
        foreach (var path in _paths)
        {
            Assert.Equal(Encoding.UTF8.GetString(Marker(path)), await GetAsync(f, path));
        }

        await make();

        // Computed and streamed; computed again and kept; written from what was kept.
        var rounds = new List<List<string>>();
        for (var round = 0; round < 3; round++)
        {
            var answers = new List<string>();
            foreach (var path in _paths)
            {
                answers.Add(await GetAsync(f, path));
            }
            rounds.Add(answers);
            var generations = await GenerationsAsync(f.PatientId);
            Assert.All(_paths, path => Assert.Equal(round == 0 ? PatientAnswerCache.Kept.ComputedOnce : PatientAnswerCache.Kept.Json,
                Answers.TryGet(KeyOf(f.PatientId, path), generations, Today, out _)));
        }
        var fresh = await FreshAsync(f);
        Assert.All(rounds, answers => Assert.Equal(fresh, answers));
        Assert.True(!before.SequenceEqual(fresh), $"{change} does not show in the answers");
    }

    [SkippableFact]
    public async Task AKeptAnswer_IsWrittenAgainUntilTheAnswerChanges_ThenAsComputedWithNothingKept()
    {
        var f = await PatientFixture.CreateAsync(App);
        var admin = App.Admin();
        using (var created = await admin.PostAsJsonAsync("/api/v1/instruments", InstrumentsTests.Sleep("1"), OutcomesApp.Json))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await PainAsync(f, "2025-02-20", 8);
        await PainAsync(f, "2025-02-27", 7);
        await SleepAsync(f, "2025-02-27", 8);
        var session = await SessionAsync(f, "2025-03-01");
        await PainAsync(f, "2025-03-15", 5);
        var week6 = await PainAsync(f, "2025-04-12", 4);
        await SleepAsync(f, "2025-04-12", 5);

        await ChangeAsync(f, "an appended score", () => PainAsync(f, "2025-05-24", 2));
        await ChangeAsync(f, "an amended score", () => PainAsync(f, "2025-04-12", 6, amends: week6));
        await ChangeAsync(f, "an out-of-order score", () => PainAsync(f, "2025-02-28", 3));
        await ChangeAsync(f, "a withdrawn score", async () =>
        {
            var observations = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("observations") + "?kind=painScore", OutcomesApp.Json);
            var id = observations.GetProperty("items").EnumerateArray()
                .Single(o => o.GetProperty("answeredAt").GetString()!.StartsWith("2025-02-28", StringComparison.Ordinal)).GetProperty("id").GetInt64();
            await CreatedAsync(f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{id}/entered-in-error",
                new { submissionId = Guid.NewGuid(), reason = "not my score" }, OutcomesApp.Json));
        });
        await ChangeAsync(f, "a questionnaire", () => SleepAsync(f, "2025-05-24", 3));
        await ChangeAsync(f, "a corrected session", () => CreatedAsync(f.Practitioner.PostAsJsonAsync(
            f.PathOf($"treatment-sessions/{session}/amendments"), new
            {
                submissionId = Guid.NewGuid(), sessionDate = "2025-03-02", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA",
                guidance = "emg", dilutionUnitsPerMl = 50, injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 25 } },
                reason = "The visit was on 2 March",
            }, OutcomesApp.Json)));
        await ChangeAsync(f, "a new session", () => SessionAsync(f, "2025-05-25"));
        await ChangeAsync(f, "a new version of the instrument", async () =>
        {
            using var created = await admin.PostAsJsonAsync("/api/v1/instruments", InstrumentsTests.Sleep("2", "Sleep interference, 0-10"), OutcomesApp.Json);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        });
        await ChangeAsync(f, "the next day", () =>
        {
            _clock.Now = _clock.Now.AddDays(1);
            return Task.CompletedTask;
        });
    }

    [SkippableFact]
    public async Task AKeptAnswer_IsAnsweredOnlyToWhoMayReadIt_AndEveryReadIsAudited()
    {
        var f = await PatientFixture.CreateAsync(App);
        await PainAsync(f, "2025-02-20", 8);
        var generations = await GenerationsAsync(f.PatientId);
        foreach (var path in new[] { "outcomes", "trend?measure=pain_nrs" })
        {
            var first = await GetAsync(f, path);
            Assert.Equal(PatientAnswerCache.Kept.ComputedOnce, Answers.TryGet(KeyOf(f.PatientId, path), generations, Today, out _));
            var second = await GetAsync(f, path);
            Assert.Equal(PatientAnswerCache.Kept.Json, Answers.TryGet(KeyOf(f.PatientId, path), generations, Today, out _));
            var third = await GetAsync(f, path);
            using var other = await App.Practitioner(f.SiteId + 1000).GetAsync(f.PathOf(path));

            Assert.Equal(first, second);
            Assert.Equal(first, third);
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }
        Assert.Equal(3, await App.CountAuditAsync("read", "outcomes", f.PatientId));
        Assert.Equal(3, await App.CountAuditAsync("read", "trend", f.PatientId));
    }

    private static Task<long> SleepAsync(PatientFixture f, string day, int value) =>
        CreatedAsync(f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = $"{day}T10:00:00Z", instrument = "sleep_nrs", version = "1",
            answers = new[] { new { item = "sleep", value } },
        }));
}
