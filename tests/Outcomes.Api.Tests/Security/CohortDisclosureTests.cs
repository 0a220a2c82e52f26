using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Outcomes.Api.Data;
using Outcomes.Api.Features.Cohorts;
using Outcomes.Api.Tests.Infrastructure;
using Outcomes.Core.Tests.Cohorts;

namespace Outcomes.Api.Tests.Security;

/// <summary>
/// The disclosure attacker on the service's own answers: a clinic built through the API, every cohort
/// endpoint asked for one set of filters (each week, each responder rule, each breakdown), and no small
/// cell may follow from what they show.
/// </summary>
public abstract class CohortDisclosureTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : CohortDisclosureTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : CohortDisclosureTests(DatabaseProvider.SqlServer);

    private const int Threshold = 3;
    private static readonly string[] _rules = ["relief30", "relief50", "importantChange"];
    private static readonly string[] _partitions = ["guidance", "product", "doseBand", "site", "practitioner", "cycle"];

    protected override Action<IServiceCollection>? ConfigureServices => services =>
    {
        services.AddSingleton<TimeProvider>(new FixedClock(new DateTimeOffset(2025, 12, 1, 12, 0, 0, TimeSpan.Zero)));
        services.Configure<CohortOptions>(o => o.SmallCellThreshold = Threshold);
    };

    /// <summary>
    /// Three sites of 16, 12 and 2 patients; guidance, product and dose vary; a third of the patients are
    /// re-treated; about one value in six is missing; responses vary from none to full.
    /// </summary>
    private async Task BuildClinicAsync()
    {
        var random = new Random(20261201);
        foreach (var size in new[] { 16, 12, 2 })
        {
            var siteId = await App.CreateSiteAsync();
            var practitionerId = await App.CreatePractitionerAsync(siteId);
            var practitioner = App.Practitioner(siteId);
            for (var i = 0; i < size; i++)
            {
                var patientId = await App.CreatePatientAsync(siteId, condition: random.Next(2) == 0 ? "neckShoulderPain" : "myofascialPainSyndrome",
                    sex: random.Next(2) == 0 ? "female" : "male");
                var patient = App.Patient(patientId);
                var day = new DateOnly(2025, 1, 20).AddDays(random.Next(90));
                var sessions = random.Next(3) == 0 ? 2 : 1;
                for (var s = 0; s < sessions; s++)
                {
                    var abo = random.Next(5) == 0;
                    var session = await practitioner.PostAsJsonAsync($"/api/v1/patients/{patientId}/treatment-sessions", new
                    {
                        submissionId = Guid.NewGuid(), sessionDate = day.ToString("O", System.Globalization.CultureInfo.InvariantCulture), practitionerId,
                        product = abo ? "abobotulinumtoxinA" : "onabotulinumtoxinA",
                        guidance = new[] { "emg", "palpation", "ultrasound" }[random.Next(3)], dilutionUnitsPerMl = 50,
                        injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = abo ? 60 + random.Next(190) : 20 + random.Next(80) } },
                    }, OutcomesApp.Json);
                    Assert.True(session.StatusCode == HttpStatusCode.Created, await session.Content.ReadAsStringAsync());
                    var baseline = 5 + random.Next(5);
                    var relief = random.NextDouble();
                    var scores = new List<(DateOnly Day, int Score)> { (day.AddDays(-1), baseline) };
                    foreach (var week in new[] { 2, 6, 12 })
                    {
                        if (random.Next(6) != 0)
                        {
                            scores.Add((day.AddDays(week * 7), Math.Max(0, baseline - (int)Math.Round(baseline * relief))));
                        }
                    }
                    foreach (var (scoreDay, score) in scores)
                    {
                        var posted = await patient.PostAsJsonAsync($"/api/v1/patients/{patientId}/pain-scores", new
                        {
                            submissionId = Guid.NewGuid(), answeredAt = $"{scoreDay:O}T18:00:00Z", score, recall = "average7Days",
                        }, OutcomesApp.Json);
                        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
                    }
                    day = day.AddDays(100 + random.Next(30));
                }
            }
        }
    }

    private static int? Count(JsonElement cell, string property) =>
        cell.GetProperty(property).ValueKind == JsonValueKind.Null ? null : cell.GetProperty(property).GetInt32();

    [SkippableTheory]
    [InlineData("")]
    [InlineData("guidance=emg")]
    [InlineData("firstCycleOnly=true")]
    public async Task NoSmallCell_FollowsFromEveryAnswerForOneSetOfFilters(string filters)
    {
        await BuildClinicAsync();
        var auditor = App.Auditor();
        var withheld = 0;
        var disclosed = new List<string>();
        foreach (var week in new[] { 6, 12 })
        {
            var attacker = new Attacker();
            var query = $"{filters}&week={week}";
            var s = (await auditor.GetFromJsonAsync<JsonElement>($"/api/v1/cohorts/outcomes?{query}", OutcomesApp.Json)).GetProperty("summary");
            var parts = new[] { ("W", "withValue"), ("V", "noValueInWindow"), ("B", "noBaseline"), ("Y", "notYetReached"), ("E", "cycleEndedBefore") };
            attacker.Cell("T", Count(s.GetProperty("cycles"), "cycles"));
            foreach (var (name, property) in parts)
            {
                attacker.Cell(name, Count(s.GetProperty(property), "cycles"));
            }
            attacker.Sum("T", parts.Select(p => p.Item1));
            foreach (var (rule, property) in new[] { ("relief30", "responders30"), ("relief50", "responders50"), ("importantChange", "respondersImportantChange") })
            {
                attacker.Cell($"k:{rule}", Count(s.GetProperty(property), "k"));
                attacker.Cell($"n:{rule}", Count(s.GetProperty(property), "n"));
                attacker.AtMost($"k:{rule}", $"n:{rule}");
                attacker.AtMost($"n:{rule}", "W");
                attacker.Rate($"k:{rule}", $"n:{rule}");
            }
            attacker.AtMost("k:relief50", "k:relief30");
            attacker.AtMost("k:relief30", "k:importantChange");
            attacker.Same("n:relief30", "n:relief50");
            attacker.Same("n:importantChange", "W");
            attacker.Cell("meanN", Count(s.GetProperty("meanChange"), "n"));
            attacker.Cell("medianN", Count(s.GetProperty("medianChange"), "n"));
            attacker.Same("meanN", "W");
            attacker.Same("medianN", "W");
            foreach (var name in new[] { "sideEffects", "seriousSideEffects" })
            {
                attacker.Cell($"k:{name}", Count(s.GetProperty(name), "k"));
                attacker.Cell($"n:{name}", Count(s.GetProperty(name), "n"));
                attacker.Same($"n:{name}", "T");
                attacker.Rate($"k:{name}", $"n:{name}");
            }
            var breakdowns = _partitions.Select(by => (by, $"/api/v1/cohorts/compare?by={by}&{query}", "groups"))
                .Append(("quarter", $"/api/v1/cohorts/over-time?{query}", "quarters"));
            foreach (var (by, path, list) in breakdowns)
            {
                foreach (var rule in _rules)
                {
                    var groups = (await auditor.GetFromJsonAsync<JsonElement>($"{path}&responder={rule}", OutcomesApp.Json)).GetProperty(list).EnumerateArray().ToList();
                    var names = groups.Select(g => $"{by}:{g.GetProperty("group").GetString()}").ToList();
                    foreach (var (g, name) in groups.Zip(names))
                    {
                        attacker.Cell($"{name}:cycles", Count(g.GetProperty("cycles"), "cycles"), lower: 1);
                        attacker.Cell($"{name}:k:{rule}", Count(g.GetProperty("rate"), "k"));
                        attacker.Cell($"{name}:n:{rule}", Count(g.GetProperty("rate"), "n"));
                        attacker.AtMost($"{name}:k:{rule}", $"{name}:n:{rule}");
                        attacker.AtMost($"{name}:n:{rule}", $"{name}:cycles");
                        attacker.Rate($"{name}:k:{rule}", $"{name}:n:{rule}");
                    }
                    attacker.Sum("T", names.Select(n => $"{n}:cycles"));
                    attacker.Sum($"k:{rule}", names.Select(n => $"{n}:k:{rule}"));
                    attacker.Sum($"n:{rule}", names.Select(n => $"{n}:n:{rule}"));
                    if (rule == "importantChange")
                    {
                        foreach (var name in names)
                        {
                            attacker.AtMost($"{name}:k:relief50", $"{name}:k:relief30");
                            attacker.AtMost($"{name}:k:relief30", $"{name}:k:importantChange");
                            attacker.Same($"{name}:n:relief30", $"{name}:n:relief50");
                        }
                    }
                }
            }
            var duration = (await auditor.GetFromJsonAsync<JsonElement>($"/api/v1/cohorts/duration?{query}", OutcomesApp.Json)).GetProperty("duration");
            attacker.Cell("D", Count(duration.GetProperty("cycles"), "cycles"));
            attacker.Cell("L", Count(duration.GetProperty("losses"), "cycles"));
            attacker.AtMost("L", "D");

            withheld += attacker.Withheld;
            disclosed.AddRange(attacker.SmallCellsDisclosed(Threshold).Select(d => $"week {week}: {d}"));
        }

        Assert.True(disclosed.Count == 0, string.Join("\n", disclosed));
        Assert.True(withheld >= 10, $"only {withheld} withheld counts: the clinic tests too little");
    }
}
