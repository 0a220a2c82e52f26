using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class SubmissionsTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : SubmissionsTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : SubmissionsTests(DatabaseProvider.SqlServer);

    private static object Pain(Guid id, int score = 6, string answeredAt = "2025-03-03T08:30:00+01:00", string recall = "average7Days") =>
        new { submissionId = id, answeredAt, score, recall };

    [SkippableFact]
    public async Task PainScore_IsStoredAndReadsBackWithItsOffset()
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.PostAsync(f.Patient, "pain-scores", Pain(Guid.NewGuid(), 7));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var stored = await f.Patient.GetFromJsonAsync<JsonElement>(response.Headers.Location, OutcomesApp.Json);
        Assert.Equal("painScore", stored.GetProperty("kind").GetString());
        Assert.Equal("pain_nrs", stored.GetProperty("code").GetString());
        Assert.Equal(7m, stored.GetProperty("value").GetDecimal());
        Assert.Equal("average7Days", stored.GetProperty("qualifier").GetString());
        Assert.Equal(DateTimeOffset.Parse("2025-03-03T08:30:00+01:00", System.Globalization.CultureInfo.InvariantCulture),
            stored.GetProperty("answeredAt").GetDateTimeOffset());
        Assert.EndsWith("+01:00", stored.GetProperty("answeredAt").GetString(), StringComparison.Ordinal);
        Assert.Equal("current", stored.GetProperty("status").GetString());
        Assert.Equal("patient", stored.GetProperty("recordedByRole").GetString());
    }

    [SkippableFact]
    public async Task AnsweredAt_IsKeptToTheSecond_NeverRoundedIntoTheNextDay_AndTheAnswersAgree()
    {
        // SQL Server's DATETIMEOFFSET(3) rounds: .9996 would become the next second, here the next
        // day (and ISO week). The service truncates before either database sees the value.
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.PostAsync(f.Patient, "pain-scores", Pain(Guid.NewGuid(), 7, answeredAt: "2025-03-02T23:59:59.9996789+00:00"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await PatientFixture.BodyAsync(response);
        var stored = await f.Patient.GetFromJsonAsync<JsonElement>(response.Headers.Location, OutcomesApp.Json);
        var expected = new DateTimeOffset(2025, 3, 2, 23, 59, 59, TimeSpan.Zero);
        Assert.Equal(expected, created.GetProperty("answeredAt").GetDateTimeOffset());
        Assert.Equal(expected, stored.GetProperty("answeredAt").GetDateTimeOffset());
        Assert.Equal(created.GetProperty("receivedAt").GetDateTimeOffset(), stored.GetProperty("receivedAt").GetDateTimeOffset());
    }

    [SkippableFact]
    public async Task CreatedAnswer_EqualsWhatIsReadBack_ForEveryKind()
    {
        var f = await PatientFixture.CreateAsync(App);
        var created = new List<HttpResponseMessage>
        {
            await f.PostAsync(f.Patient, "pain-scores", Pain(Guid.NewGuid(), 7)),
            await f.PostAsync(f.Patient, "questionnaire-responses", new
            {
                submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00-05:00", instrument = "hit6", version = "1",
                answers = Enumerable.Range(1, 6).Select(i => new { item = $"hit6_{i}", option = "sometimes" }),
            }),
            await f.PostAsync(f.Practitioner, "range-of-motion", new
            {
                submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", movement = "cervical_rotation_left", degrees = 61.5m, method = "goniometer",
            }),
            await f.PostAsync(f.Patient, "side-effects", new
            {
                submissionId = Guid.NewGuid(), answeredAt = "2025-02-03T10:00:00Z", effect = "other", severity = "mild", onsetOn = "2025-02-02", note = "itch",
            }),
        };

        foreach (var response in created)
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var answered = await response.Content.ReadAsStringAsync();
            var read = await f.Patient.GetStringAsync(response.Headers.Location);
            Assert.Equal(read, answered);
        }
    }

    [SkippableFact]
    public async Task Retry_WithSameIdAndBody_ReturnsTheOriginal200()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();

        var first = await f.PostAsync(f.Patient, "pain-scores", Pain(id));
        var retry = await f.PostAsync(f.Patient, "pain-scores", Pain(id));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal((await PatientFixture.BodyAsync(first)).GetProperty("id").GetInt64(),
            (await PatientFixture.BodyAsync(retry)).GetProperty("id").GetInt64());
        Assert.Equal(1, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Retry_WithSameIdAndDifferentBody_Returns409AndKeepsTheOriginal()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();
        await f.PostAsync(f.Patient, "pain-scores", Pain(id, 6));

        var changed = await f.PostAsync(f.Patient, "pain-scores", Pain(id, 3));

        await ProblemAssert.IsProblem(changed, HttpStatusCode.Conflict);
        Assert.Equal(1, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task ConcurrentIdenticalRetries_StoreExactlyOneRow()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => f.PostAsync(f.Patient, "pain-scores", Pain(id))));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, r.StatusCode.ToString()));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        var ids = await Task.WhenAll(responses.Select(async r => (await PatientFixture.BodyAsync(r)).GetProperty("id").GetInt64()));
        Assert.Single(ids.Distinct());
        Assert.Equal(1, await f.CountObservationsAsync());
    }

    public static TheoryData<string, string> BadPainScores => new()
    {
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2025-03-03T08:30:00Z","score":11,"recall":"current"}""", "score" },
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2025-03-03T08:30:00Z","score":-1,"recall":"current"}""", "score" },
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2025-03-03T08:30:00Z","score":7.5,"recall":"current"}""", "score" },
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2025-03-03T08:30:00Z","score":"seven","recall":"current"}""", "score" },
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2025-03-03T08:30:00Z","score":5,"recall":"yesterday"}""", "recall" },
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2999-01-01T00:00:00Z","score":5,"recall":"current"}""", "answeredAt" },
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2024-12-31T23:00:00Z","score":5,"recall":"current"}""", "answeredAt" },
        { """{"submissionId":"not-a-uuid","answeredAt":"2025-03-03T08:30:00Z","score":5,"recall":"current"}""", "submissionId" },
        { """{"answeredAt":"2025-03-03T08:30:00Z","score":5,"recall":"current"}""", "submissionId" },
        { """{"submissionId":"5b0e0a3c-2c1e-4f6e-9d7a-1a2b3c4d5e6f","answeredAt":"2025-03-03T08:30:00Z","score":5,"recall":"current","reason":"why"}""", "reason" },
    };

    [SkippableTheory]
    [MemberData(nameof(BadPainScores))]
    public async Task BadPainScore_Returns400NamingTheFieldAndWritesNothing(string body, string field)
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.Patient.PostAsync(f.PathOf("pain-scores"), new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.IsValidationProblem(response, field);
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Submissions_ForAnotherPatient_Return404AndWriteNothing()
    {
        var f = await PatientFixture.CreateAsync(App);
        var other = await App.CreatePatientAsync(f.SiteId);
        var otherSite = await App.CreateSiteAsync();

        var asOtherPatient = await App.Patient(other).PostAsJsonAsync(f.PathOf("pain-scores"), Pain(Guid.NewGuid()), OutcomesApp.Json);
        var asOtherSite = await App.Practitioner(otherSite).PostAsJsonAsync(f.PathOf("pain-scores"), Pain(Guid.NewGuid()), OutcomesApp.Json);

        await ProblemAssert.IsProblem(asOtherPatient, HttpStatusCode.NotFound);
        await ProblemAssert.IsProblem(asOtherSite, HttpStatusCode.NotFound);
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Ndi_IsScoredOnArrivalAndKeepsItsAnswers()
    {
        var f = await PatientFixture.CreateAsync(App);
        // Nine items answered, 16 points: 16 / 45 x 100 = 35.56%
        int[] values = [2, 3, 1, 2, 0, 2, 3, 1, 2];
        var answers = values.Select((v, i) => new { item = $"ndi_{i + 1:D2}", value = v });

        var response = await f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", instrument = "ndi", version = "1", answers,
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await PatientFixture.BodyAsync(response);
        Assert.Equal(35.56m, body.GetProperty("value").GetDecimal());
        Assert.Equal(16m, body.GetProperty("detail").GetProperty("rawSum").GetDecimal());
        Assert.Equal(9, body.GetProperty("detail").GetProperty("answeredItems").GetInt32());
        Assert.Equal(9, body.GetProperty("detail").GetProperty("answers").GetArrayLength());
    }

    [SkippableFact]
    public async Task Hit6_ScoresMappedOptionValues()
    {
        var f = await PatientFixture.CreateAsync(App);
        string[] options = ["never", "rarely", "sometimes", "very_often", "always", "always"]; // 6+8+10+11+13+13 = 61

        var response = await f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", instrument = "hit6", version = "1",
            answers = options.Select((o, i) => new { item = $"hit6_{i + 1}", option = o }),
        });

        Assert.Equal(61m, (await PatientFixture.BodyAsync(response)).GetProperty("value").GetDecimal());
    }

    [SkippableFact]
    public async Task BadQuestionnaire_Returns400NamingEachProblemAndWritesNothing()
    {
        var f = await PatientFixture.CreateAsync(App);

        var unknown = await f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", instrument = "sf36", version = "1",
            answers = new[] { new { item = "x", value = 1 } },
        });
        var badAnswers = await f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", instrument = "hit6", version = "1",
            answers = new object[] { new { item = "hit6_1", option = "often" }, new { item = "hit6_7", option = "never" } },
        });
        var incomplete = await f.PostAsync(f.Patient, "questionnaire-responses", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", instrument = "odi", version = "2.1a",
            answers = Enumerable.Range(1, 7).Select(i => new { item = $"odi_{i:D2}", value = 1 }),
        });

        await ProblemAssert.IsValidationProblem(unknown, "instrument");
        await ProblemAssert.IsValidationProblem(badAnswers, "answers[0].option", "answers[1].item");
        await ProblemAssert.IsValidationProblem(incomplete, "answers");
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task RangeOfMotion_ByPractitioner_IsStored_AndImpossibleValuesAreRejected()
    {
        var f = await PatientFixture.CreateAsync(App);
        object Rom(string movement, decimal degrees) => new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", movement, degrees, method = "cromDevice",
        };

        var ok = await f.PostAsync(f.Practitioner, "range-of-motion", Rom("cervical_rotation_left", 62.5m));
        var tooFar = await f.PostAsync(f.Practitioner, "range-of-motion", Rom("shoulder_abduction_right", 181m));
        var rotation = await f.PostAsync(f.Practitioner, "range-of-motion", Rom("cervical_rotation_left", 120m));
        var negative = await f.PostAsync(f.Practitioner, "range-of-motion", Rom("lumbar_flexion", -5m));
        var unknown = await f.PostAsync(f.Practitioner, "range-of-motion", Rom("ankle_dorsiflexion", 20m));
        var asPatient = await f.PostAsync(f.Patient, "range-of-motion", Rom("cervical_flexion", 40m));

        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal("deg", (await PatientFixture.BodyAsync(ok)).GetProperty("unit").GetString());
        await ProblemAssert.IsValidationProblem(tooFar, "degrees");
        await ProblemAssert.IsValidationProblem(rotation, "degrees");
        await ProblemAssert.IsValidationProblem(negative, "degrees");
        await ProblemAssert.IsValidationProblem(unknown, "movement");
        await ProblemAssert.IsProblem(asPatient, HttpStatusCode.Forbidden);
        Assert.Equal(1, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task PressurePainThreshold_IsStoredAtItsTriggerPoint()
    {
        var f = await PatientFixture.CreateAsync(App);

        var ok = await f.PostAsync(f.Practitioner, "pressure-pain-thresholds", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", muscle = "upper_trapezius", side = "left", kgPerCm2 = 2.45m,
        });
        var zero = await f.PostAsync(f.Practitioner, "pressure-pain-thresholds", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", muscle = "upper_trapezius", side = "left", kgPerCm2 = 0,
        });

        var body = await PatientFixture.BodyAsync(ok);
        Assert.Equal(2.45m, body.GetProperty("value").GetDecimal());
        Assert.Equal("upper_trapezius", body.GetProperty("code").GetString());
        Assert.Equal("left", body.GetProperty("bodySide").GetString());
        await ProblemAssert.IsValidationProblem(zero, "kgPerCm2");
    }

    [SkippableFact]
    public async Task SeriousSideEffect_IsFlaggedOnThePatient()
    {
        var f = await PatientFixture.CreateAsync(App);

        var bruising = await f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-03T10:00:00Z", effect = "bruising", severity = "mild", onsetOn = "2025-02-02",
        });
        var dysphagia = await f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-04T10:00:00Z", effect = "difficultySwallowing", severity = "moderate", onsetOn = "2025-02-03",
        });

        Assert.False((await PatientFixture.BodyAsync(bruising)).GetProperty("serious").GetBoolean());
        Assert.True((await PatientFixture.BodyAsync(dysphagia)).GetProperty("serious").GetBoolean());
        var patient = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{f.PatientId}", OutcomesApp.Json);
        Assert.Equal(1, patient.GetProperty("seriousSideEffects").GetInt32());
        var flagged = await f.Practitioner.GetFromJsonAsync<JsonElement>("/api/v1/patients?seriousSideEffects=true", OutcomesApp.Json);
        Assert.Equal([f.PatientId], flagged.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetInt64()));
    }

    [SkippableFact]
    public async Task SideEffect_OnsetAfterReportAndOtherWithoutNote_Return400()
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-03T10:00:00Z", effect = "other", severity = "mild", onsetOn = "2025-02-05",
        });

        await ProblemAssert.IsValidationProblem(response, "note", "onsetOn");
    }

    [SkippableFact]
    public async Task Amendment_CreatesANewVersion_AndTheOriginalStaysReadable()
    {
        var f = await PatientFixture.CreateAsync(App);
        var original = await PatientFixture.BodyAsync(await f.PostAsync(f.Patient, "pain-scores", Pain(Guid.NewGuid(), 8)));
        var originalId = original.GetProperty("id").GetInt64();

        var amended = await f.PostAsync(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00+01:00", score = 3, recall = "average7Days",
            amends = originalId, reason = "tapped 8 instead of 3",
        });

        Assert.Equal(HttpStatusCode.Created, amended.StatusCode);
        var current = await f.Patient.GetFromJsonAsync<JsonElement>(f.PathOf("observations"), OutcomesApp.Json);
        var items = current.GetProperty("items").EnumerateArray().ToList();
        Assert.Single(items);
        Assert.Equal(3m, items[0].GetProperty("value").GetDecimal());
        Assert.Equal(originalId, items[0].GetProperty("recordId").GetInt64());
        var old = await f.Patient.GetFromJsonAsync<JsonElement>($"{f.PathOf("observations")}/{originalId}", OutcomesApp.Json);
        Assert.Equal("superseded", old.GetProperty("status").GetString());
        Assert.Equal(8m, old.GetProperty("value").GetDecimal());
        var history = await f.Patient.GetFromJsonAsync<JsonElement[]>($"{f.PathOf("observations")}/{originalId}/history", OutcomesApp.Json);
        Assert.Equal([8m, 3m], history!.Select(h => h.GetProperty("value").GetDecimal()));
        Assert.Equal("tapped 8 instead of 3", history![1].GetProperty("changeReason").GetString());
    }

    [SkippableFact]
    public async Task AmendingASupersededVersion_Returns409()
    {
        var f = await PatientFixture.CreateAsync(App);
        var originalId = (await PatientFixture.BodyAsync(await f.PostAsync(f.Patient, "pain-scores", Pain(Guid.NewGuid(), 8)))).GetProperty("id").GetInt64();
        object Amend(int score) => new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00+01:00", score, recall = "average7Days",
            amends = originalId, reason = "correction",
        };
        await f.PostAsync(f.Patient, "pain-scores", Amend(3));

        var second = await f.PostAsync(f.Patient, "pain-scores", Amend(4));
        var noReason = await f.PostAsync(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00+01:00", score = 4, recall = "average7Days", amends = originalId,
        });

        await ProblemAssert.IsProblem(second, HttpStatusCode.Conflict);
        await ProblemAssert.IsValidationProblem(noReason, "reason");
        Assert.Equal(2, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task ConcurrentAmendmentsOfOneVersion_OnlyOneWins()
    {
        var f = await PatientFixture.CreateAsync(App);
        var originalId = (await PatientFixture.BodyAsync(await f.PostAsync(f.Practitioner, "pain-scores", Pain(Guid.NewGuid(), 8)))).GetProperty("id").GetInt64();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => f.PostAsync(f.Practitioner, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00+01:00", score = i, recall = "average7Days",
            amends = originalId, reason = $"correction {i}",
        })));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal(2, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task EnteredInError_LeavesTheCurrentListButNotTheHistory()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = (await PatientFixture.BodyAsync(await f.PostAsync(f.Patient, "pain-scores", Pain(Guid.NewGuid(), 8)))).GetProperty("id").GetInt64();
        var rom = (await PatientFixture.BodyAsync(await f.PostAsync(f.Practitioner, "range-of-motion", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-02-01T10:00:00Z", movement = "cervical_flexion", degrees = 40, method = "goniometer",
        }))).GetProperty("id").GetInt64();

        var marked = await f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{id}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "meant for another week" }, OutcomesApp.Json);
        var patientOnRom = await f.Patient.PostAsJsonAsync($"{f.PathOf("observations")}/{rom}/entered-in-error",
            new { submissionId = Guid.NewGuid(), reason = "no" }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, marked.StatusCode);
        Assert.Equal("enteredInError", (await PatientFixture.BodyAsync(marked)).GetProperty("status").GetString());
        await ProblemAssert.IsValidationProblem(patientOnRom, "observationId");
        var current = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("observations") + "?kind=painScore", OutcomesApp.Json);
        Assert.Empty(current.GetProperty("items").EnumerateArray());
        var history = await f.Practitioner.GetFromJsonAsync<JsonElement[]>($"{f.PathOf("observations")}/{id}/history", OutcomesApp.Json);
        Assert.Equal(["superseded", "enteredInError"], history!.Select(h => h.GetProperty("status").GetString()));
    }

    [SkippableFact]
    public async Task ListObservations_PagesInAnswerTimeOrder()
    {
        var f = await PatientFixture.CreateAsync(App);
        string[] times = ["2025-03-10T09:00:00Z", "2025-03-03T09:00:00Z", "2025-03-17T09:00:00+05:00", "2025-03-17T03:00:00Z", "2025-02-24T09:00:00Z"];
        foreach (var t in times)
        {
            Assert.Equal(HttpStatusCode.Created, (await f.PostAsync(f.Patient, "pain-scores", Pain(Guid.NewGuid(), answeredAt: t))).StatusCode);
        }

        var seen = new List<DateTimeOffset>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await f.Patient.GetFromJsonAsync<JsonElement>(
                f.PathOf("observations") + "?limit=2" + (cursor is null ? "" : $"&cursor={cursor}"), OutcomesApp.Json);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("answeredAt").GetDateTimeOffset()));
            cursor = page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10);

        // 2025-03-17T09:00+05:00 is 04:00 UTC: after 03:00 UTC.
        Assert.Equal(times.Select(t => DateTimeOffset.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).Order(), seen);
        Assert.Equal(3, pages);
    }
}
