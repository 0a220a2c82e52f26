using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Dapper;
using Outcomes.Api.Data;
using Outcomes.Api.Infrastructure;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class HealthAndAuthTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : HealthAndAuthTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : HealthAndAuthTests(DatabaseProvider.SqlServer);

    [SkippableTheory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_AnswersWithoutAToken(string path)
    {
        var response = await App.Anonymous().GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [SkippableTheory]
    [InlineData("/api/v1/sites")]
    [InlineData("/api/v1/patients")]
    [InlineData("/api/v1/patients/1")]
    [InlineData("/api/v1/patients/1/treatment-sessions")]
    [InlineData("/api/v1/catalogue/muscles")]
    public async Task ApiWithoutToken_Returns401Problem(string path)
    {
        var response = await App.Anonymous().GetAsync(path);

        await ProblemAssert.IsProblem(response, HttpStatusCode.Unauthorized);
    }

    public static TheoryData<string> BadTokens => new()
    {
        "expired", "not-yet-valid", "wrong-issuer", "wrong-audience", "wrong-signature", "alg-none", "garbage",
    };

    [SkippableTheory]
    [MemberData(nameof(BadTokens))]
    public async Task InvalidToken_Returns401(string kind)
    {
        var tokens = App.Tokens;
        var now = DateTime.UtcNow;
        var token = kind switch
        {
            "expired" => tokens.Create(Roles.Admin, notBefore: now.AddHours(-2), expires: now.AddHours(-1)),
            "not-yet-valid" => tokens.Create(Roles.Admin, notBefore: now.AddHours(1), expires: now.AddHours(2)),
            "wrong-issuer" => tokens.Create(Roles.Admin, issuer: "someone-else"),
            "wrong-audience" => tokens.Create(Roles.Admin, audience: "another-api"),
            "wrong-signature" => tokens.Create(Roles.Admin, signingKey: RandomNumberGenerator.GetBytes(32)),
            "alg-none" => UnsignedToken(),
            _ => "not.a.token",
        };

        var response = await App.As(token).GetAsync("/api/v1/sites");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [SkippableFact]
    public async Task TokenWithoutKnownRole_Returns403()
    {
        var response = await App.As(App.Tokens.Create("superuser")).GetAsync("/api/v1/catalogue/muscles");

        await ProblemAssert.IsProblem(response, HttpStatusCode.Forbidden);
    }

    [SkippableFact]
    public async Task Catalogue_ListsMusclesForAnyRole()
    {
        var response = await App.Patient(1).GetStringAsync("/api/v1/catalogue/muscles");

        Assert.Contains("\"upper_trapezius\"", response, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task UnexpectedFailure_Returns500ProblemWithoutDetails_AndWritesNothing()
    {
        // Without its audit table, a write cannot complete: the site insert before it must roll back.
        await using (var connection = await App.OpenDatabaseAsync())
        {
            await connection.ExecuteAsync("DROP TABLE audit_event");
        }

        var response = await App.Admin().PostAsJsonAsync("/api/v1/sites", new { name = "Boom" }, OutcomesApp.Json);

        var body = await ProblemAssert.IsProblem(response, HttpStatusCode.InternalServerError);
        var text = body.GetRawText();
        Assert.DoesNotContain("audit_event", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("exception", text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, (await App.CountRowsAsync())["site"]);
    }

    private static string UnsignedToken()
    {
        static string Encode(string json) => Base64UrlEncode(System.Text.Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds();
        return Encode("""{"alg":"none","typ":"JWT"}""") + "."
            + Encode($$"""{"sub":"x","role":"admin","iss":"{{TestTokens.Issuer}}","aud":"{{TestTokens.Audience}}","exp":{{exp}}}""") + ".";
    }

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
