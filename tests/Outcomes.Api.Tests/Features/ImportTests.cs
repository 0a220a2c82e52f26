using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class ImportTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : ImportTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : ImportTests(DatabaseProvider.SqlServer);

    private static StringContent Ndjson(string text) => new(text, Encoding.UTF8, "application/x-ndjson");

    private static string PainLine(long patientId, Guid id, int score, string at = "2025-03-03T08:30:00Z") =>
        $$"""{"type":"painScore","patientId":{{patientId}},"submissionId":"{{id}}","answeredAt":"{{at}}","score":{{score}},"recall":"average7Days"}""";

    private static string MixedFile(long patientId) => string.Join('\n',
        PainLine(patientId, Guid.Parse("11111111-1111-4111-8111-111111111111"), 6),
        $$"""{"type":"questionnaire","patientId":{{patientId}},"submissionId":"22222222-2222-4222-8222-222222222222","answeredAt":"2025-02-01T09:00:00Z","instrument":"ndi","version":"1","answers":[{"item":"ndi_01","value":2},{"item":"ndi_02","value":3},{"item":"ndi_03","value":1},{"item":"ndi_04","value":2},{"item":"ndi_05","value":0},{"item":"ndi_06","value":2},{"item":"ndi_07","value":3},{"item":"ndi_08","value":1},{"item":"ndi_09","value":2}]}""",
        PainLine(patientId, Guid.Parse("33333333-3333-4333-8333-333333333333"), 11),
        PainLine(987654, Guid.Parse("44444444-4444-4444-8444-444444444444"), 5),
        """{"type":"painScore", "patientId": """,
        "",
        $$"""{"type":"sideEffect","patientId":{{patientId}},"submissionId":"55555555-5555-4555-8555-555555555555","answeredAt":"2025-02-03T10:00:00Z","effect":"bruising","severity":"mild","onsetOn":"2025-02-02"}""",
        $$"""{"type":"painScore","patientId":{{patientId}},"submissionId":"66666666-6666-4666-8666-666666666666","answeredAt":"2025-03-03T08:30:00Z","score":"six","recall":"current"}""") + "\n";

    [SkippableFact]
    public async Task Import_StoresValidLines_AndReportsEachInvalidOneByLine()
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await f.Practitioner.PostAsync("/api/v1/imports/observations", Ndjson(MixedFile(f.PatientId)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = await PatientFixture.BodyAsync(response);
        Assert.Equal(7, report.GetProperty("lines").GetInt64());
        Assert.Equal(3, report.GetProperty("stored").GetInt64());
        Assert.Equal(0, report.GetProperty("duplicates").GetInt64());
        Assert.Equal(4, report.GetProperty("rejected").GetInt64());
        var errors = report.GetProperty("errors").EnumerateArray()
            .Select(e => (Line: e.GetProperty("line").GetInt64(), Fields: string.Join(",", e.GetProperty("errors").EnumerateObject().Select(p => p.Name))))
            .ToList();
        Assert.Equal([(3L, "score"), (4L, "patientId"), (5L, "$"), (8L, "score")], errors);
        Assert.Equal(3, await f.CountObservationsAsync());
        var ndi = await f.Practitioner.GetFromJsonAsync<JsonElement>(f.PathOf("observations") + "?kind=questionnaire", OutcomesApp.Json);
        Assert.Equal(35.56m, ndi.GetProperty("items")[0].GetProperty("value").GetDecimal());
    }

    [SkippableFact]
    public async Task Import_ResentFile_DuplicatesNothing()
    {
        var f = await PatientFixture.CreateAsync(App);
        await f.Practitioner.PostAsync("/api/v1/imports/observations", Ndjson(MixedFile(f.PatientId)));

        var again = await PatientFixture.BodyAsync(await f.Practitioner.PostAsync("/api/v1/imports/observations", Ndjson(MixedFile(f.PatientId))));

        Assert.Equal(0, again.GetProperty("stored").GetInt64());
        Assert.Equal(3, again.GetProperty("duplicates").GetInt64());
        Assert.Equal(3, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Import_ReusedSubmissionIdWithOtherContent_IsRejected()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();

        var report = await PatientFixture.BodyAsync(await f.Practitioner.PostAsync("/api/v1/imports/observations",
            Ndjson(PainLine(f.PatientId, id, 6) + "\n" + PainLine(f.PatientId, id, 2) + "\n")));

        Assert.Equal(1, report.GetProperty("stored").GetInt64());
        Assert.Equal(2, report.GetProperty("errors")[0].GetProperty("line").GetInt64());
        Assert.True(report.GetProperty("errors")[0].GetProperty("errors").TryGetProperty("submissionId", out _));
    }

    [SkippableFact]
    public async Task Import_TheSameRecordTwiceInOneFile_IsStoredOnce_AndAReusedIdAfterItIsRejected()
    {
        var f = await PatientFixture.CreateAsync(App);
        var id = Guid.NewGuid();
        var stored = Guid.NewGuid();
        await f.Practitioner.PostAsync("/api/v1/imports/observations", Ndjson(PainLine(f.PatientId, stored, 4) + "\n"));

        // In one batch: a record, the same record again, its id with other content, and a record stored by an earlier file,
        // then that id with other content.
        var report = await PatientFixture.BodyAsync(await f.Practitioner.PostAsync("/api/v1/imports/observations", Ndjson(string.Join('\n',
            PainLine(f.PatientId, id, 6), PainLine(f.PatientId, id, 6), PainLine(f.PatientId, id, 2),
            PainLine(f.PatientId, stored, 4), PainLine(f.PatientId, stored, 5)) + "\n")));

        Assert.Equal(1, report.GetProperty("stored").GetInt64());
        Assert.Equal(2, report.GetProperty("duplicates").GetInt64());
        Assert.Equal([3L, 5L], report.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt64()).ToArray());
        Assert.Equal(2, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Import_LineWithAMemberTheSubmissionDoesNotHave_OrOneGivenTwice_IsRejected()
    {
        var f = await PatientFixture.CreateAsync(App);
        var file = string.Join('\n',
            $$"""{"type":"painScore","patientId":{{f.PatientId}},"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00Z","score":6,"recall":"current","mood":"fine"}""",
            $$"""{"type":"painScore","patientId":{{f.PatientId}},"submissionId":"{{Guid.NewGuid()}}","answeredAt":"2025-03-03T08:30:00Z","score":6,"score":7,"recall":"current"}""") + "\n";

        var report = await PatientFixture.BodyAsync(await f.Practitioner.PostAsync("/api/v1/imports/observations", Ndjson(file)));

        Assert.Equal(0, report.GetProperty("stored").GetInt64());
        var errors = report.GetProperty("errors").EnumerateArray()
            .Select(e => (Line: e.GetProperty("line").GetInt64(), Fields: string.Join(",", e.GetProperty("errors").EnumerateObject().Select(p => p.Name))))
            .ToList();
        Assert.Equal([(1L, "mood"), (2L, "score")], errors);
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Import_ForAnotherSitesPatient_RejectsTheLines()
    {
        var f = await PatientFixture.CreateAsync(App);
        var otherSite = await App.CreateSiteAsync();

        var report = await PatientFixture.BodyAsync(await App.Practitioner(otherSite).PostAsync("/api/v1/imports/observations",
            Ndjson(PainLine(f.PatientId, Guid.NewGuid(), 6))));

        Assert.Equal(1, report.GetProperty("rejected").GetInt64());
        Assert.Equal(0, await f.CountObservationsAsync());
    }

    [SkippableFact]
    public async Task Import_ManyLines_AreWrittenAcrossBatches()
    {
        var f = await PatientFixture.CreateAsync(App);
        var start = new DateTimeOffset(2025, 1, 20, 8, 0, 0, TimeSpan.Zero);
        var file = new StringBuilder();
        for (var i = 0; i < 1234; i++)
        {
            file.Append(PainLine(f.PatientId, Guid.NewGuid(), i % 11, start.AddHours(i).ToString("O", System.Globalization.CultureInfo.InvariantCulture))).Append('\n');
        }

        var report = await PatientFixture.BodyAsync(await App.Admin().PostAsync("/api/v1/imports/observations", Ndjson(file.ToString())));

        Assert.Equal(1234, report.GetProperty("stored").GetInt64());
        Assert.Equal(1234, await f.CountObservationsAsync());
        Assert.True(await App.CountAuditAsync("import", "observation", f.PatientId) >= 3, "one audit event per patient per batch");
    }

    [SkippableFact]
    public async Task Import_StoresEachRecordExactlyAsTheSubmissionEndpointDoes()
    {
        var viaApi = await PatientFixture.CreateAsync(App);
        var viaImport = await PatientFixture.CreateAsync(App);
        // An instant with an offset and sub-millisecond digits, a decimal value, a date and a detail.
        var records = new (string Kind, string Path, string Body)[]
        {
            ("painScore", "pain-scores", """ "answeredAt":"2025-03-03T23:30:00.1234567+02:00","score":6,"recall":"worst7Days" """),
            ("rangeOfMotion", "range-of-motion", """ "answeredAt":"2025-03-04T10:00:00Z","movement":"cervical_flexion","degrees":41.5,"method":"goniometer" """),
            ("sideEffect", "side-effects", """ "answeredAt":"2025-03-05T10:00:00-05:00","effect":"other","severity":"mild","onsetOn":"2025-03-04","note":"itch, left side <\"quoted\"> é" """),
            ("pressurePainThreshold", "pressure-pain-thresholds", """ "answeredAt":"2025-03-06T09:30:00.999Z","muscle":"upper_trapezius","side":"left","kgPerCm2":2.45 """),
            ("questionnaire", "questionnaire-responses", """ "answeredAt":"2025-03-07T10:00:00Z","instrument":"ndi","version":"1","answers":[{"item":"ndi_01","value":2},{"item":"ndi_02","value":3},{"item":"ndi_03","value":1},{"item":"ndi_04","value":2},{"item":"ndi_05","value":0},{"item":"ndi_06","value":2},{"item":"ndi_07","value":3},{"item":"ndi_08","value":1},{"item":"ndi_09","value":2}] """),
            ("painScore", "pain-scores", """ "answeredAt":"2025-03-08T10:00:00Z","score":0,"recall":"current" """),
        };
        var file = new StringBuilder();
        foreach (var (kind, path, body) in records)
        {
            var submissionId = Guid.NewGuid();
            var posted = await viaApi.Practitioner.PostAsync(viaApi.PathOf(path),
                new StringContent($$"""{"submissionId":"{{submissionId}}",{{body}}}""", Encoding.UTF8, "application/json"));
            Assert.True(posted.StatusCode == HttpStatusCode.Created, await posted.Content.ReadAsStringAsync());
            file.Append(System.Globalization.CultureInfo.InvariantCulture,
                $$"""{"type":"{{kind}}","patientId":{{viaImport.PatientId}},"submissionId":"{{submissionId}}",{{body}}}""").Append('\n');
        }

        var report = await PatientFixture.BodyAsync(await viaImport.Practitioner.PostAsync("/api/v1/imports/observations", Ndjson(file.ToString())));

        Assert.Equal(records.Length, report.GetProperty("stored").GetInt64());
        async Task<List<string>> StoredAsync(long patientId)
        {
            await using var connection = await App.OpenDatabaseAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT kind, code, instrument_version, value, qualifier, body_side, onset_on, serious, detail, answered_at,
                       answered_offset_min, submission_id, payload_hash, recorded_role, supersedes_id, root_id, entered_in_error, change_reason
                FROM observation WHERE patient_id = @Id ORDER BY id
                """;
            var id = command.CreateParameter();
            id.ParameterName = "@Id";
            id.Value = patientId;
            command.Parameters.Add(id);
            var rows = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i =>
                    reader.IsDBNull(i) ? "null" : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{reader.GetValue(i)} ({reader.GetFieldType(i).Name})"))));
            }
            return rows;
        }
        var expected = await StoredAsync(viaApi.PatientId);
        Assert.Equal(records.Length, expected.Count);
        Assert.Equal(expected, await StoredAsync(viaImport.PatientId));
    }

    [SkippableFact]
    public async Task Import_WrongMediaType_Returns415()
    {
        var response = await App.Admin().PostAsync("/api/v1/imports/observations", new StringContent("{}", Encoding.UTF8, "application/json"));

        await ProblemAssert.IsProblem(response, HttpStatusCode.UnsupportedMediaType);
    }

    [SkippableFact]
    public async Task Import_NotForPatientsOrAuditors()
    {
        await ProblemAssert.IsProblem(await App.Patient(1).PostAsync("/api/v1/imports/observations", Ndjson("")), HttpStatusCode.Forbidden);
        await ProblemAssert.IsProblem(await App.Auditor().PostAsync("/api/v1/imports/observations", Ndjson("")), HttpStatusCode.Forbidden);
    }
}
