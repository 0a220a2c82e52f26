using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>A patient's phone paired with a one-time code, its tokens rotated, and unpaired.</summary>
public abstract class DevicePairingTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : DevicePairingTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : DevicePairingTests(DatabaseProvider.SqlServer);

    public const string Grant = "urn:outcomes:oauth:grant-type:pairing-code";

    /// <summary>Stolen-token detection at once: a spent refresh token presented again unpairs the device.</summary>
    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Devices:RefreshReuseGraceSeconds"] = "0" };

    public static async Task<string> PairingCodeAsync(PatientFixture f)
    {
        var response = await f.Practitioner.PostAsync($"/api/v1/patients/{f.PatientId}/pairing-codes", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()!;
    }

    public static Task<HttpResponseMessage> TokenAsync(HttpClient client, params (string Key, string Value)[] form) =>
        client.PostAsync("/api/v1/oauth/token", new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));

    private static async Task<(string Access, string Refresh)> TokensAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("Bearer", json.RootElement.GetProperty("token_type").GetString());
        Assert.Equal(900, json.RootElement.GetProperty("expires_in").GetInt32());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return (json.RootElement.GetProperty("access_token").GetString()!, json.RootElement.GetProperty("refresh_token").GetString()!);
    }

    private static async Task AssertGrantRefusedAsync(HttpResponseMessage response, string error = "invalid_grant")
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(error, json.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("error_description").GetString()));
    }

    private HttpClient Bearer(string access)
    {
        var client = App.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", access);
        return client;
    }

    [SkippableFact]
    public async Task APairedPhone_IsThePatient_ThroughTheNativeApiAndFhir_AndTheCodeWorksOnce()
    {
        var f = await PatientFixture.CreateAsync(App);
        var other = await App.CreatePatientAsync(f.SiteId);
        var created = await f.Practitioner.PostAsync($"/api/v1/patients/{f.PatientId}/pairing-codes", null);
        var pairing = await created.Content.ReadFromJsonAsync<JsonElement>();
        var code = pairing.GetProperty("code").GetString()!;

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Matches("^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$", code);
        Assert.Contains("<svg", pairing.GetProperty("qrCodeSvg").GetString(), StringComparison.Ordinal);
        Assert.EndsWith($"code={code}", pairing.GetProperty("pairingLink").GetString(), StringComparison.Ordinal);
        // Typed as a patient reads it aloud: lower case, no dash, an O for a zero.
        var typed = code.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant().Replace('0', 'o');
        var (access, _) = await TokensAsync(await TokenAsync(App.Anonymous(), ("grant_type", Grant), ("code", typed), ("device_name", "Anna's phone")));

        var phone = Bearer(access);
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync($"/api/v1/patients/{f.PatientId}/due")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync($"/fhir/Patient/{f.PatientId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await phone.PostAsJsonAsync($"/api/v1/patients/{f.PatientId}/pain-scores",
            new { submissionId = Guid.NewGuid(), answeredAt = "2025-03-03T08:30:00+01:00", score = 4, recall = "average7Days" }, OutcomesApp.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await phone.GetAsync($"/api/v1/patients/{other}/due")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await phone.GetAsync("/api/v1/patients")).StatusCode);
        await AssertGrantRefusedAsync(await TokenAsync(App.Anonymous(), ("grant_type", Grant), ("code", code)));

        var devices = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{f.PatientId}/devices", OutcomesApp.Json);
        Assert.Equal("Anna's phone", devices[0].GetProperty("name").GetString());
        Assert.Equal(1, await App.CountAuditAsync("create", "pairing_code", f.PatientId));
        Assert.Equal(1, await App.CountAuditAsync("pair_device", "patient_device", f.PatientId));
        // Neither the code nor the refresh token is stored as given.
        await using var connection = await App.OpenDatabaseAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pairing_code WHERE code_hash = @code", new { code }));
        Assert.Equal(64, (await connection.ExecuteScalarAsync<string>("SELECT code_hash FROM pairing_code"))!.Length);
    }

    [SkippableFact]
    public async Task RefreshTokensRotate_AndASpentOneUsedAgainUnpairsTheDevice()
    {
        var f = await PatientFixture.CreateAsync(App);
        var (_, first) = await TokensAsync(await TokenAsync(App.Anonymous(), ("grant_type", Grant), ("code", await PairingCodeAsync(f))));

        var (access, second) = await TokensAsync(await TokenAsync(App.Anonymous(), ("grant_type", "refresh_token"), ("refresh_token", first)));
        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.OK, (await Bearer(access).GetAsync($"/api/v1/patients/{f.PatientId}/due")).StatusCode);

        // The first token again: someone kept a copy. The device is unpaired, and so its newer tokens stop working too.
        await AssertGrantRefusedAsync(await TokenAsync(App.Anonymous(), ("grant_type", "refresh_token"), ("refresh_token", first)));
        await AssertGrantRefusedAsync(await TokenAsync(App.Anonymous(), ("grant_type", "refresh_token"), ("refresh_token", second)));
        var refused = await Bearer(access).GetAsync($"/api/v1/patients/{f.PatientId}/due");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("device_revoked", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        var devices = await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{f.PatientId}/devices", OutcomesApp.Json);
        Assert.Equal("system", devices[0].GetProperty("revokedBy").GetString());
    }

    [SkippableFact]
    public async Task APractitionerUnpairsADevice_AndItsNextCallIsRefused_SayingSo()
    {
        var f = await PatientFixture.CreateAsync(App);
        var (access, refresh) = await TokensAsync(await TokenAsync(App.Anonymous(), ("grant_type", Grant), ("code", await PairingCodeAsync(f))));
        var phone = Bearer(access);
        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync($"/api/v1/patients/{f.PatientId}/due")).StatusCode);
        var device = (await f.Practitioner.GetFromJsonAsync<JsonElement>($"/api/v1/patients/{f.PatientId}/devices", OutcomesApp.Json))[0].GetProperty("id").GetInt64();
        var otherSite = App.Practitioner(await App.CreateSiteAsync());

        Assert.Equal(HttpStatusCode.NotFound,
            (await otherSite.PostAsJsonAsync($"/api/v1/patients/{f.PatientId}/devices/{device}/revocation", new { reason = "not mine" }, OutcomesApp.Json)).StatusCode);
        var revoked = await f.Practitioner.PostAsJsonAsync($"/api/v1/patients/{f.PatientId}/devices/{device}/revocation", new { reason = "Phone lost" }, OutcomesApp.Json);
        var again = await f.Practitioner.PostAsJsonAsync($"/api/v1/patients/{f.PatientId}/devices/{device}/revocation", new { }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal("Phone lost", (await revoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revokedReason").GetString());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var refused = await phone.GetAsync($"/api/v1/patients/{f.PatientId}/due");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("unpaired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var fhir = await phone.GetAsync($"/fhir/Patient/{f.PatientId}");
        Assert.Equal(HttpStatusCode.Unauthorized, fhir.StatusCode);
        Assert.Contains("unpaired", await fhir.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await AssertGrantRefusedAsync(await TokenAsync(App.Anonymous(), ("grant_type", "refresh_token"), ("refresh_token", refresh)));
        Assert.Equal(1, await App.CountAuditAsync("revoke", "patient_device", f.PatientId));
    }

    [SkippableFact]
    public async Task TenPhonesRacingForOneCode_PairOne()
    {
        var f = await PatientFixture.CreateAsync(App);
        var code = await PairingCodeAsync(f);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => TokenAsync(App.Anonymous(), ("grant_type", Grant), ("code", code))));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
        await using var connection = await App.OpenDatabaseAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM device_refresh_token"));
    }

    [SkippableFact]
    public async Task AnExpiredCode_AWrongGrant_AndAJsonBody_AreRefusedAsOAuthSays()
    {
        var f = await PatientFixture.CreateAsync(App);
        var code = await PairingCodeAsync(f);
        await using (var connection = await App.OpenDatabaseAsync())
        {
            await connection.ExecuteAsync("UPDATE pairing_code SET expires_at = @past", new { past = DateTimeOffset.UtcNow.AddMinutes(-1) });
        }

        await AssertGrantRefusedAsync(await TokenAsync(App.Anonymous(), ("grant_type", Grant), ("code", code)));
        await AssertGrantRefusedAsync(await TokenAsync(App.Anonymous(), ("grant_type", "password"), ("username", "x")), "unsupported_grant_type");
        await AssertGrantRefusedAsync(await App.Anonymous().PostAsJsonAsync("/api/v1/oauth/token", new { grant_type = Grant, code }), "invalid_request");
        Assert.Equal(HttpStatusCode.Forbidden, (await f.Patient.PostAsync($"/api/v1/patients/{f.PatientId}/pairing-codes", null)).StatusCode);
        Assert.Equal(1, await App.CountAuditAsync("pair_device", "patient_device", f.PatientId, outcome: "denied"));
    }

    [SkippableFact]
    public async Task RevokingARefreshToken_UnpairsItsDevice_AndAnUnknownTokenIsStill200()
    {
        var f = await PatientFixture.CreateAsync(App);
        var (access, refresh) = await TokensAsync(await TokenAsync(App.Anonymous(), ("grant_type", Grant), ("code", await PairingCodeAsync(f))));

        var unknown = await App.Anonymous().PostAsync("/api/v1/oauth/revoke", new FormUrlEncodedContent([new("token", "not-a-token")]));
        var known = await App.Anonymous().PostAsync("/api/v1/oauth/revoke", new FormUrlEncodedContent([new("token", refresh), new("token_type_hint", "refresh_token")]));

        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(access).GetAsync($"/api/v1/patients/{f.PatientId}/due")).StatusCode);
    }
}

/// <summary>Guessing pairing codes is limited per address.</summary>
public abstract class PairingGuessTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : PairingGuessTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : PairingGuessTests(DatabaseProvider.SqlServer);

    protected override IReadOnlyDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimiting:TokenPermitLimit"] = "5",
        ["RateLimiting:TokenWindowSeconds"] = "3600",
    };

    [SkippableFact]
    public async Task TheSixthGuessWithinTheWindow_Is429()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await DevicePairingTests.TokenAsync(App.Anonymous(), ("grant_type", DevicePairingTests.Grant), ("code", $"AAAA-AAA{i}"))).StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.BadRequest, 5).Append(HttpStatusCode.TooManyRequests), statuses);
    }
}
