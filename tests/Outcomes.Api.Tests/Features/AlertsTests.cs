using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>Serious side effects raise alerts with the report, a feed shows them, and webhooks push them, signed, at least once.</summary>
public abstract class AlertsTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : AlertsTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : AlertsTests(DatabaseProvider.SqlServer);

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        // A receiver on loopback, as the tests start one; and a long timeout, so a receiver that never answers holds its request.
        ["Alerts:Webhooks:AllowPrivateNetworks"] = "true",
        ["Alerts:Webhooks:TimeoutSeconds"] = "30",
    };

    private static object SideEffect(string effect = "difficultySwallowing", string severity = "moderate", Guid? submissionId = null) => new
    {
        submissionId = submissionId ?? Guid.NewGuid(), answeredAt = "2025-03-06T10:00:00Z", effect, severity, onsetOn = "2025-03-06",
    };

    private static async Task<JsonElement> AlertsAsync(HttpClient client, string query = "") =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts?{query}", OutcomesApp.Json)).GetProperty("items");

    private static async Task<int> OpenSeriousAlertsOnTheListAsync(PatientFixture f)
    {
        var page = await f.Practitioner.GetFromJsonAsync<JsonElement>("/api/v1/patients/summaries", OutcomesApp.Json);
        return page.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("id").GetInt64() == f.PatientId).GetProperty("openSeriousAlerts").GetInt32();
    }

    [SkippableFact]
    public async Task ASeriousSideEffect_RaisesOneAlert_InTheFeedAndOnTheList_UntilAcknowledged()
    {
        var f = await PatientFixture.CreateAsync(App);
        var submission = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.Created, (await f.PostAsync(f.Patient, "side-effects", SideEffect("bruising", "mild"))).StatusCode);
        var report = await PatientFixture.BodyAsync(await f.PostAsync(f.Patient, "side-effects", SideEffect(submissionId: submission)));
        // The same submission again (a retry from the phone), and an amendment that keeps it serious: no second alert.
        Assert.Equal(HttpStatusCode.OK, (await f.PostAsync(f.Patient, "side-effects", SideEffect(submissionId: submission))).StatusCode);
        var amendment = await f.PostAsync(f.Patient, "side-effects", new
        {
            submissionId = Guid.NewGuid(), answeredAt = "2025-03-06T10:00:00Z", effect = "difficultySwallowing", severity = "severe", onsetOn = "2025-03-05",
            amends = report.GetProperty("id").GetInt64(), reason = "it began the day before, and is worse",
        });
        Assert.Equal(HttpStatusCode.Created, amendment.StatusCode);

        var feed = await AlertsAsync(f.Practitioner);
        var alert = Assert.Single(feed.EnumerateArray());
        Assert.Equal(("seriousSideEffect", f.PatientId, report.GetProperty("id").GetInt64()),
            (alert.GetProperty("kind").GetString(), alert.GetProperty("patientId").GetInt64(), alert.GetProperty("observationId").GetInt64()));
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("acknowledgement").ValueKind);
        Assert.Equal(1, await OpenSeriousAlertsOnTheListAsync(f));
        var alertId = alert.GetProperty("id").GetInt64();

        // Another site's practitioner sees nothing and cannot acknowledge it.
        var other = App.Practitioner(await App.CreateSiteAsync());
        Assert.Empty((await AlertsAsync(other)).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsJsonAsync($"/api/v1/alerts/{alertId}/acknowledgement", new { }, OutcomesApp.Json)).StatusCode);

        var first = await f.Practitioner.PostAsJsonAsync($"/api/v1/alerts/{alertId}/acknowledgement", new { note = "Phoned: seen in clinic today" }, OutcomesApp.Json);
        var again = await App.Admin().PostAsJsonAsync($"/api/v1/alerts/{alertId}/acknowledgement", new { note = "second" }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var (a, b) = (await PatientFixture.BodyAsync(first), await PatientFixture.BodyAsync(again));
        Assert.Equal((a.GetProperty("at").GetString(), "practitioner", "Phoned: seen in clinic today"),
            (b.GetProperty("at").GetString(), b.GetProperty("role").GetString(), b.GetProperty("note").GetString()));
        Assert.Equal(0, await OpenSeriousAlertsOnTheListAsync(f));
        Assert.Empty((await AlertsAsync(f.Practitioner, "status=open")).EnumerateArray());
        Assert.Single((await AlertsAsync(App.Admin(), $"status=acknowledged&kind=seriousSideEffect&patientId={f.PatientId}")).EnumerateArray());
        Assert.Equal(1, await App.CountAuditAsync("acknowledge", "alert", f.PatientId));
        Assert.True(await App.CountAuditAsync("list", "alert", null) >= 2);
    }

    [SkippableFact]
    public async Task BadFeedFilters_Return400NamingEach()
    {
        var response = await App.Admin().GetAsync("/api/v1/alerts?status=closed&kind=loud&cursor=x&limit=0");

        await ProblemAssert.IsValidationProblem(response, "status", "kind", "cursor", "limit");
    }

    private async Task<(PatientFixture F, long WebhookId, string Secret)> RegisterAsync(WebhookReceiver receiver)
    {
        var f = await PatientFixture.CreateAsync(App);
        var created = await App.Admin().PostAsJsonAsync($"/api/v1/sites/{f.SiteId}/webhooks",
            new { url = receiver.Url, kinds = new[] { "seriousSideEffect" } }, OutcomesApp.Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await PatientFixture.BodyAsync(created);
        return (f, body.GetProperty("id").GetInt64(), body.GetProperty("secret").GetString()!);
    }

    /// <summary>The webhook's only delivery once it is delivered: the receiver may have its request a moment before the sender records the answer.</summary>
    private async Task<JsonElement> DeliveredAsync(long siteId, long webhookId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var items = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/sites/{siteId}/webhooks/{webhookId}/deliveries", OutcomesApp.Json))
                .GetProperty("items");
            var delivery = Assert.Single(items.EnumerateArray());
            if (delivery.GetProperty("status").GetString() == "delivered" || DateTime.UtcNow > deadline)
            {
                return delivery;
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The Standard Webhooks verification, written here from the specification rather than taken from the
    /// service: HMAC-SHA256 keyed with the base64 after "whsec_", over "id.timestamp.body", as "v1," + base64.
    /// </summary>
    private static bool Verifies(string secret, ReceivedWebhook w)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{w.Id}.{w.Timestamp}.{w.Body}")));
        return w.Signature!.Split(' ').Contains(expected);
    }

    [SkippableFact]
    public async Task ASeriousSideEffect_ReachesTheClinicsReceiver_OnceAndSigned()
    {
        await using var receiver = new WebhookReceiver();
        var (f, webhookId, secret) = await RegisterAsync(receiver);

        var report = await PatientFixture.BodyAsync(await f.PostAsync(f.Patient, "side-effects", SideEffect()));
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));

        var w = Assert.Single(receiver.Received);
        Assert.StartsWith("msg_", w.Id, StringComparison.Ordinal);
        Assert.True(Verifies(secret, w), $"signature {w.Signature} does not verify");
        Assert.InRange(long.Parse(w.Timestamp!, System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
        // The payload names the alert, the patient and the site, and nothing else: no free text, no external reference.
        var payload = JsonDocument.Parse(w.Body).RootElement;
        Assert.Equal("alert.seriousSideEffect", payload.GetProperty("type").GetString());
        var data = payload.GetProperty("data");
        Assert.Equal(["alertId", "kind", "occurredOn", "patientId", "siteId"], data.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal((f.PatientId, f.SiteId), (data.GetProperty("patientId").GetInt64(), data.GetProperty("siteId").GetInt64()));
        Assert.DoesNotContain("REF-", w.Body, StringComparison.Ordinal);
        var delivery = await DeliveredAsync(f.SiteId, webhookId);
        Assert.Equal(("delivered", 1, w.Id), (delivery.GetProperty("status").GetString(), delivery.GetProperty("attempts").GetInt32(),
            delivery.GetProperty("messageId").GetString()));
        Assert.Equal(report.GetProperty("id").GetInt64(), (await AlertsAsync(App.Admin(), $"patientId={f.PatientId}"))[0].GetProperty("observationId").GetInt64());
    }

    [SkippableFact]
    public async Task AReceiverAnswering500Then200_GetsTheSameWebhookIdTwice_AndNothingMore()
    {
        await using var receiver = new WebhookReceiver(500);
        var (f, webhookId, secret) = await RegisterAsync(receiver);

        await f.PostAsync(f.Patient, "side-effects", SideEffect());
        await receiver.WaitForAsync(2, TimeSpan.FromSeconds(30));

        var delivery = await DeliveredAsync(f.SiteId, webhookId);
        // Delivered after two attempts: nothing is left to send, so nothing more can come.
        Assert.Equal(("delivered", 2), (delivery.GetProperty("status").GetString(), delivery.GetProperty("attempts").GetInt32()));
        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal([500, 200], receiver.Received.Select(r => r.Answered!.Value));
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
        Assert.All(receiver.Received, r => Assert.True(Verifies(secret, r)));
    }

    [SkippableFact]
    public async Task AReceiverThatNeverAnswers_HoldsUpNoSubmission()
    {
        await using var receiver = new WebhookReceiver { Hang = true };
        var (f, webhookId, _) = await RegisterAsync(receiver);

        Assert.Equal(HttpStatusCode.Created, (await f.PostAsync(f.Patient, "side-effects", SideEffect())).StatusCode);
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        // While that delivery waits for an answer (up to 30 s), the patient goes on submitting, serious reports included.
        for (var i = 0; i < 5; i++)
        {
            var response = await f.PostAsync(f.Patient, i % 2 == 0 ? "pain-scores" : "side-effects", i % 2 == 0
                ? new { submissionId = Guid.NewGuid(), answeredAt = $"2025-03-1{i}T18:00:00Z", score = 4, recall = "average7Days" }
                : SideEffect("breathingDifficulty", "moderate"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        // Every submission was answered while the first delivery had still not been answered.
        var first = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/sites/{f.SiteId}/webhooks/{webhookId}/deliveries", OutcomesApp.Json))
            .GetProperty("items")[0];
        Assert.Equal(("pending", 0), (first.GetProperty("status").GetString(), first.GetProperty("attempts").GetInt32()));
        Assert.Null(receiver.Received[0].Answered);
        Assert.Equal(3, (await AlertsAsync(App.Admin(), $"patientId={f.PatientId}")).GetArrayLength());
    }

    [SkippableFact]
    public async Task Webhooks_AreListedWithoutSecrets_DisabledOnDelete_AndAFailedDeliveryCanBeSentAgainOnlyWhenFailed()
    {
        await using var receiver = new WebhookReceiver();
        var (f, webhookId, secret) = await RegisterAsync(receiver);
        await f.PostAsync(f.Patient, "side-effects", SideEffect());
        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
        await DeliveredAsync(f.SiteId, webhookId);

        var listed = await App.Admin().GetStringAsync($"/api/v1/sites/{f.SiteId}/webhooks");
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", listed, StringComparison.Ordinal);
        var deliveryId = (await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/sites/{f.SiteId}/webhooks/{webhookId}/deliveries", OutcomesApp.Json))
            .GetProperty("items")[0].GetProperty("id").GetInt64();
        var resend = await App.Admin().PostAsync($"/api/v1/sites/{f.SiteId}/webhooks/{webhookId}/deliveries/{deliveryId}/redelivery", null);
        Assert.Equal(HttpStatusCode.Conflict, resend.StatusCode); // delivered: nothing to send again

        var disabled = await App.Admin().DeleteAsync($"/api/v1/sites/{f.SiteId}/webhooks/{webhookId}");
        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.NotEqual(JsonValueKind.Null, (await PatientFixture.BodyAsync(disabled)).GetProperty("disabledAt").ValueKind);
        await f.PostAsync(f.Patient, "side-effects", SideEffect("droopingEyelid", "mild"));
        Assert.Single((await App.Admin().GetFromJsonAsync<JsonElement>($"/api/v1/sites/{f.SiteId}/webhooks/{webhookId}/deliveries", OutcomesApp.Json))
            .GetProperty("items").EnumerateArray());
    }

    [SkippableFact]
    public async Task BadWebhooks_Return400NamingEachField()
    {
        var f = await PatientFixture.CreateAsync(App);

        var response = await App.Admin().PostAsJsonAsync($"/api/v1/sites/{f.SiteId}/webhooks", new { url = "ftp://pager.example.org/x", kinds = Array.Empty<string>() }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "url", "kinds");
        Assert.Equal(HttpStatusCode.NotFound, (await App.Admin().PostAsJsonAsync("/api/v1/sites/999999/webhooks",
            new { url = "https://pager.example.org/x", kinds = new[] { "seriousSideEffect" } }, OutcomesApp.Json)).StatusCode);
    }
}
