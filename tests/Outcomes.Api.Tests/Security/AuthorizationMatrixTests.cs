using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Features;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Security;

/// <summary>
/// Every operation of the committed OpenAPI document, called as every kind of caller. The expected
/// answer of each operation is written out below; an operation without a row fails the suite, so a
/// new endpoint cannot ship without an authorization decision.
/// </summary>
public abstract class AuthorizationMatrixTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : AuthorizationMatrixTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : AuthorizationMatrixTests(DatabaseProvider.SqlServer);

    public enum Caller { None, PatientSelf, OtherPatient, PractitionerSameSite, PractitionerOtherSite, Auditor, Admin }

    /// <summary>Allow: the request passed authorization (2xx, 400 for the test's empty body, 409 for a resource's state). Hide: 404. Deny: 403. Auth: 401.</summary>
    public enum Expect { Allow, Auth, Deny, Hide }

    // Columns: none, patient self, other patient, practitioner same site, practitioner other site, auditor, admin.
    private static readonly Expect[] _anonymous = [Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow];
    private static readonly Expect[] _anyRole = [Expect.Auth, Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow];
    private static readonly Expect[] _admin = [Expect.Auth, Expect.Deny, Expect.Deny, Expect.Deny, Expect.Deny, Expect.Deny, Expect.Allow];
    private static readonly Expect[] _staff = [Expect.Auth, Expect.Deny, Expect.Deny, Expect.Allow, Expect.Allow, Expect.Allow, Expect.Allow];
    private static readonly Expect[] _clinician = [Expect.Auth, Expect.Deny, Expect.Deny, Expect.Allow, Expect.Allow, Expect.Deny, Expect.Allow];
    private static readonly Expect[] _colleague = [Expect.Auth, Expect.Deny, Expect.Deny, Expect.Allow, Expect.Hide, Expect.Deny, Expect.Allow];
    private static readonly Expect[] _patientRecord = [Expect.Auth, Expect.Allow, Expect.Hide, Expect.Allow, Expect.Hide, Expect.Deny, Expect.Allow];
    private static readonly Expect[] _patientClinical = [Expect.Auth, Expect.Deny, Expect.Deny, Expect.Allow, Expect.Hide, Expect.Deny, Expect.Allow];
    private static readonly Expect[] _auditor = [Expect.Auth, Expect.Deny, Expect.Deny, Expect.Deny, Expect.Deny, Expect.Allow, Expect.Allow];

    private static readonly Dictionary<string, Expect[]> _matrix = new()
    {
        ["Live"] = _anonymous,
        ["Ready"] = _anonymous,
        ["ListMuscles"] = _anyRole,
        ["ListMovements"] = _anyRole,
        ["ListInstruments"] = _anyRole,
        ["GetInstrument"] = _anyRole,
        ["CreateInstrument"] = _admin,
        ["CreateSite"] = _admin,
        ["ListSites"] = _staff,
        ["GetSite"] = _staff,
        ["CreatePractitioner"] = _admin,
        ["ListPractitioners"] = _clinician,
        ["GetPractitioner"] = _colleague,
        ["CreatePatient"] = _clinician,
        ["ListPatients"] = _clinician,
        ["ListPatientSummaries"] = _clinician,
        ["GetPatient"] = _patientRecord,
        ["CreateTreatmentSession"] = _patientClinical,
        ["ListTreatmentSessions"] = _patientRecord,
        ["GetTreatmentSession"] = _patientRecord,
        ["AmendTreatmentSession"] = _patientClinical,
        ["CorrectPatient"] = _patientClinical,
        ["GetPatientHistory"] = _patientRecord,
        ["MarkTreatmentSessionEnteredInError"] = _patientClinical,
        ["GetTreatmentSessionHistory"] = _patientRecord,
        ["SubmitPainScore"] = _patientRecord,
        ["SubmitQuestionnaireResponse"] = _patientRecord,
        ["SubmitSideEffect"] = _patientRecord,
        ["SubmitRangeOfMotion"] = _patientClinical,
        ["SubmitPressurePainThreshold"] = _patientClinical,
        ["ListObservations"] = _patientRecord,
        ["GetObservation"] = _patientRecord,
        ["GetObservationHistory"] = _patientRecord,
        ["MarkObservationEnteredInError"] = _patientRecord,
        ["ReviewSeriousSideEffectWithdrawal"] = _patientClinical,
        ["GetDue"] = _patientRecord,
        ["GetTrend"] = _patientRecord,
        ["GetTrendPng"] = _patientRecord,
        ["GetTrendSvg"] = _patientRecord,
        ["GetOutcomes"] = _patientRecord,
        ["GetAccessLog"] = _patientRecord,
        ["ImportObservations"] = _clinician,
        ["GetCohortOutcomes"] = _auditor,
        ["CompareCohorts"] = _auditor,
        ["GetCohortDuration"] = _auditor,
        ["GetCohortOverTime"] = _auditor,
        ["ExportCohortCycles"] = _auditor,
        ["ListAuditEvents"] = _auditor,
        ["ListAlerts"] = _clinician,
        ["AcknowledgeAlert"] = _colleague,
        ["GetAlertSettings"] = _admin,
        ["PutAlertSettings"] = _admin,
        ["CreateWebhook"] = _admin,
        ["ListWebhooks"] = _admin,
        ["DisableWebhook"] = _admin,
        ["ListWebhookDeliveries"] = _admin,
        ["RedeliverWebhook"] = _admin,
        ["CreatePairingCode"] = _patientClinical,
        ["ListDevices"] = _patientRecord,
        ["RevokeDevice"] = _patientRecord,
        ["IssueDeviceToken"] = _anonymous,
        ["RevokeDeviceToken"] = _anonymous,
        ["GetInstrumentWording"] = [Expect.Auth, Expect.Hide, Expect.Hide, Expect.Hide, Expect.Hide, Expect.Hide, Expect.Hide],
        ["PutInstrumentWording"] = _admin,
    };

    private sealed record Operation(string Id, string Method, string Path);

    private static List<Operation> Operations()
    {
        var document = JsonNode.Parse(File.ReadAllText(OpenApiDocumentTests.CommittedPath))!;
        return [.. document["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject()
            .Select(o => new Operation(o.Value!["operationId"]!.GetValue<string>(), o.Key.ToUpperInvariant(), p.Key)))];
    }

    [Fact]
    public void EveryDocumentedOperation_HasADecision_AndEveryDecisionAnOperation()
    {
        var ids = Operations().Select(o => o.Id).ToHashSet();

        Assert.Empty(ids.Except(_matrix.Keys));
        Assert.Empty(_matrix.Keys.Except(ids));
    }

    [SkippableFact]
    public async Task EveryOperation_AnswersEveryCaller_AsTheMatrixSays()
    {
        var f = await PatientFixture.CreateAsync(App);
        var other = await App.CreatePatientAsync(f.SiteId, reference: "OTHER-PATIENT");
        var otherSite = await App.CreateSiteAsync();
        var session = await PatientFixture.BodyAsync(await f.Practitioner.PostAsJsonAsync(f.PathOf("treatment-sessions"), new
        {
            submissionId = Guid.NewGuid(), sessionDate = "2025-03-03", practitionerId = f.PractitionerId, product = "onabotulinumtoxinA", guidance = "emg", dilutionUnitsPerMl = 50,
            injectionSites = new[] { new { muscle = "upper_trapezius", side = "left", units = 20 } },
        }, OutcomesApp.Json));
        var observation = await PatientFixture.BodyAsync(await f.PostAsync(f.Patient, "pain-scores", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-10T10:00:00Z", score = 5, recall = "average7Days",
        }));
        // A webhook of the site, then a serious side effect: an alert, and a delivery of it to the webhook.
        var webhook = await PatientFixture.BodyAsync(await App.Admin().PostAsJsonAsync($"/api/v1/sites/{f.SiteId}/webhooks",
            new { url = "https://receiver.example.org/hook", kinds = new[] { "seriousSideEffect" } }, OutcomesApp.Json));
        await PatientFixture.BodyAsync(await f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-06T10:00:00Z", effect = "difficultySwallowing", severity = "moderate", onsetOn = "2025-03-06",
        }));
        var alert = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/alerts?patientId={f.PatientId}", OutcomesApp.Json)).GetProperty("items")[0];
        var webhookId = webhook.GetProperty("id").GetInt64();
        var delivery = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/sites/{f.SiteId}/webhooks/{webhookId}/deliveries", OutcomesApp.Json))
            .GetProperty("items")[0];
        // A paired device of the patient.
        var pairing = await PatientFixture.BodyAsync(await f.Practitioner.PostAsync($"/api/v1/patients/{f.PatientId}/pairing-codes", null));
        var token = await PatientFixture.BodyAsync(await App.Anonymous().PostAsync("/api/v1/oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:outcomes:oauth:grant-type:pairing-code", ["code"] = pairing.GetProperty("code").GetString()!,
        })));
        var device = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/patients/{f.PatientId}/devices", OutcomesApp.Json))[0];
        Assert.True(token.TryGetProperty("access_token", out _));
        var ids = new Dictionary<string, string>
        {
            ["{deviceId}"] = device.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{alertId}"] = alert.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{webhookId}"] = webhookId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{deliveryId}"] = delivery.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{patientId}"] = f.PatientId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{sessionId}"] = session.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{observationId}"] = observation.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{siteId}"] = f.SiteId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{practitionerId}"] = f.PractitionerId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{code}"] = "ndi",
            ["{version}"] = "1",
        };
        var clients = new Dictionary<Caller, HttpClient>
        {
            [Caller.None] = App.Anonymous(),
            [Caller.PatientSelf] = App.Patient(f.PatientId),
            [Caller.OtherPatient] = App.Patient(other),
            [Caller.PractitionerSameSite] = App.Practitioner(f.SiteId),
            [Caller.PractitionerOtherSite] = App.Practitioner(otherSite),
            [Caller.Auditor] = App.Auditor(),
            [Caller.Admin] = App.Admin(),
        };

        var failures = new List<string>();
        foreach (var operation in Operations())
        {
            var path = ids.Aggregate(operation.Path, (p, id) => p.Replace(id.Key, id.Value, StringComparison.Ordinal));
            foreach (var (caller, client) in clients)
            {
                var expected = _matrix[operation.Id][(int)caller];
                using var request = new HttpRequestMessage(new HttpMethod(operation.Method), path);
                if (operation.Method is "POST" or "PUT")
                {
                    request.Content = path.Contains("imports", StringComparison.Ordinal)
                        ? new StringContent("", Encoding.UTF8, "application/x-ndjson")
                        : path.Contains("oauth", StringComparison.Ordinal)
                        ? new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["token"] = "x", ["refresh_token"] = "x" })
                        : new StringContent("{}", Encoding.UTF8, "application/json");
                }
                using var response = await client.SendAsync(request);
                var status = (int)response.StatusCode;
                var actual = status switch
                {
                    401 => Expect.Auth,
                    403 => Expect.Deny,
                    404 => Expect.Hide,
                    // 409: authorized, and refused for the state of the resource (re-sending a delivery that has not failed).
                    200 or 201 or 400 or 409 => Expect.Allow,
                    _ => (Expect?)null,
                };
                if (actual != expected)
                {
                    failures.Add($"{operation.Method} {operation.Path} as {caller}: expected {expected}, got {status}");
                }
                if (caller == Caller.Auditor && status == 200)
                {
                    // Auditors never receive direct identifiers: external reference, birth year, exact clinical dates.
                    var body = WithoutOpaqueIds(await response.Content.ReadAsStringAsync());
                    foreach (var identifier in new[] { "OTHER-PATIENT", "1970", "2025-03-03", "2025-03-10", "2025-01-15" })
                    {
                        if (body.Contains(identifier, StringComparison.Ordinal))
                        {
                            failures.Add($"{operation.Method} {operation.Path} gave an auditor '{identifier}'");
                        }
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    /// <summary>
    /// A JSON body less the values of <c>actor</c> and <c>requestId</c>: a token's subject (here the role and a random
    /// hexadecimal id) and the server's request id, opaque and random, where a year or a date turns up by chance
    /// (one run in a few dozen on a page of audit events). Any other body as it is.
    /// </summary>
    private static string WithoutOpaqueIds(string body)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return body;
        }
        Strip(node);
        return node?.ToJsonString() ?? body;

        static void Strip(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    o.Remove("actor");
                    o.Remove("requestId");
                    foreach (var (_, value) in o)
                    {
                        Strip(value);
                    }
                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        Strip(item);
                    }
                    break;
            }
        }
    }
}
