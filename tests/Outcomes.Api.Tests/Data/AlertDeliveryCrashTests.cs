using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Data;

/// <summary>
/// The outbox across a crash, on the service as an operator runs it: killed while a delivery is in flight,
/// the restarted service still delivers the alert, with the same webhook id, and the alert is never doubled.
/// Also the service-side request forgery guard: a receiver on a private address is refused where private
/// networks are not allowed.
/// </summary>
public sealed class AlertDeliveryCrashTests : ProcessTestBase
{
    private static async Task<(long SiteId, long PatientId)> CreatePatientAsync(HttpClient admin)
    {
        var site = await admin.PostAsJsonAsync("/api/v1/sites", new { name = "Alert Site" });
        var siteId = (await site.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var patient = await admin.PostAsJsonAsync("/api/v1/patients", new
        {
            externalReference = "ALERT-1", siteId, birthYear = 1970, sex = "female", enrolledOn = "2025-01-15", conditions = new[] { "neckShoulderPain" },
        });
        Assert.Equal(HttpStatusCode.Created, patient.StatusCode);
        return (siteId, (await patient.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
    }

    private static object SeriousSideEffect() => new
    {
        submissionId = Guid.NewGuid(), answeredAt = "2025-03-06T10:00:00Z", effect = "difficultySwallowing", severity = "moderate", onsetOn = "2025-03-06",
    };

    [Fact]
    public async Task KilledWhileADeliveryIsInFlight_TheRestartedServiceDeliversIt_WithTheSameId()
    {
        await using var receiver = new WebhookReceiver { Hang = true };
        var settings = new Dictionary<string, string>
        {
            ["Database:SqlitePath"] = DatabasePath,
            ["Alerts:Webhooks:AllowPrivateNetworks"] = "true",
            // A delivery's claim lapses 2 x 3 + 5 = 11 s after it was taken, should its sender die.
            ["Alerts:Webhooks:TimeoutSeconds"] = "3",
        };
        long siteId, webhookId;
        await using (var service = await ServiceProcess.StartListeningAsync(settings))
        {
            using var admin = service.Admin();
            (siteId, var patientId) = await CreatePatientAsync(admin);
            var webhook = await admin.PostAsJsonAsync($"/api/v1/sites/{siteId}/webhooks", new { url = receiver.Url, kinds = new[] { "seriousSideEffect" } });
            Assert.Equal(HttpStatusCode.Created, webhook.StatusCode);
            webhookId = (await webhook.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            var report = await admin.PostAsJsonAsync($"/api/v1/patients/{patientId}/side-effects", SeriousSideEffect());
            Assert.Equal(HttpStatusCode.Created, report.StatusCode);

            await receiver.WaitForAsync(1, TimeSpan.FromSeconds(30));
            service.Kill(); // SIGKILL while the receiver holds the delivery's request
        }
        receiver.Hang = false;

        await using var restarted = await ServiceProcess.StartListeningAsync(settings);
        await receiver.WaitForAsync(2, TimeSpan.FromSeconds(60));
        using var again = restarted.Admin();
        // The receiver has its answer a moment before the sender records it.
        JsonElement delivery;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            delivery = (await again.GetFromJsonAsync<JsonElement>($"/api/v1/sites/{siteId}/webhooks/{webhookId}/deliveries")).GetProperty("items");
        }
        while (delivery[0].GetProperty("status").GetString() != "delivered" && DateTime.UtcNow < deadline && await Delay());

        var received = receiver.Received;
        Assert.Single(received.Select(r => r.Id).Distinct());
        Assert.Single(received, r => r.Answered == 200);
        Assert.Equal("delivered", Assert.Single(delivery.EnumerateArray()).GetProperty("status").GetString());
        Assert.Single((await again.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetProperty("items").EnumerateArray());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }

    [SkippableFact]
    public async Task AReceiverOnAPrivateAddress_IsRefused_WherePrivateNetworksAreNotAllowed()
    {
        // A name, not an address, so that registration cannot tell: the guard is where the connection is made.
        var name = Environment.MachineName;
        var addresses = await Dns.GetHostAddressesAsync(name);
        Skip.If(addresses.Length == 0 || !addresses.All(Outcomes.Core.Alerts.NetworkAddresses.IsPrivate),
            $"{name} does not resolve to private addresses only");
        await using var receiver = new WebhookReceiver();
        await using var service = await ServiceProcess.StartListeningAsync(new Dictionary<string, string> { ["Database:SqlitePath"] = DatabasePath });
        using var admin = service.Admin();
        var (siteId, patientId) = await CreatePatientAsync(admin);

        var loopback = await admin.PostAsJsonAsync($"/api/v1/sites/{siteId}/webhooks", new { url = receiver.Url, kinds = new[] { "seriousSideEffect" } });
        var literal = await admin.PostAsJsonAsync($"/api/v1/sites/{siteId}/webhooks", new { url = "https://10.0.0.7/hook", kinds = new[] { "seriousSideEffect" } });
        var named = await admin.PostAsJsonAsync($"/api/v1/sites/{siteId}/webhooks", new { url = $"https://{name}:{receiver.Port}/hook", kinds = new[] { "seriousSideEffect" } });
        Assert.Equal(HttpStatusCode.BadRequest, loopback.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, literal.StatusCode);
        Assert.Equal(HttpStatusCode.Created, named.StatusCode);
        var webhookId = (await named.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/v1/patients/{patientId}/side-effects", SeriousSideEffect())).StatusCode);

        JsonElement delivery;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            await Task.Delay(200);
            delivery = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/sites/{siteId}/webhooks/{webhookId}/deliveries")).GetProperty("items")[0];
        }
        while (delivery.GetProperty("attempts").GetInt32() == 0 && DateTime.UtcNow < deadline);

        Assert.StartsWith("refused", delivery.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Empty(receiver.Received);
    }
}
