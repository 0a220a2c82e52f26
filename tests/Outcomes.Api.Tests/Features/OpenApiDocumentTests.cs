using System.Text.Json;
using System.Text.Json.Nodes;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>
/// The committed contract, <c>openapi/outcomes.v1.json</c>, must equal what the code serves. After an
/// intended API change, regenerate it with <c>OUTCOMES_UPDATE_OPENAPI=1 dotnet test</c> (see README).
/// </summary>
public abstract class OpenApiDocumentTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : OpenApiDocumentTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : OpenApiDocumentTests(DatabaseProvider.SqlServer);

    public static string CommittedPath => Path.Combine(MigrationFiles.RepositoryRoot, "openapi", "outcomes.v1.json");

    [SkippableFact]
    public async Task CommittedDocument_EqualsTheServedOne()
    {
        var served = Normalise(await App.Anonymous().GetStringAsync("/openapi/v1.json"));

        if (Environment.GetEnvironmentVariable("OUTCOMES_UPDATE_OPENAPI") == "1")
        {
            // Written aside and moved into place: the authorization matrix reads this file in parallel.
            var staging = CommittedPath + ".tmp";
            await File.WriteAllTextAsync(staging, served);
            File.Move(staging, CommittedPath, overwrite: true);
        }

        Assert.True(File.Exists(CommittedPath), $"{CommittedPath} is missing; run OUTCOMES_UPDATE_OPENAPI=1 dotnet test.");
        var committed = await File.ReadAllTextAsync(CommittedPath);
        Assert.True(committed == served,
            "openapi/outcomes.v1.json differs from the served document; if the change is intended, run OUTCOMES_UPDATE_OPENAPI=1 dotnet test and commit the file.");
    }

    [SkippableFact]
    public async Task EveryOperation_StatesItsSecurityAndErrorAnswers()
    {
        var document = JsonNode.Parse(await App.Anonymous().GetStringAsync("/openapi/v1.json"))!;
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Path: p.Key, Method: o.Key, Operation: o.Value!)))
            .ToList();

        Assert.NotEmpty(operations);
        Assert.All(operations, op =>
        {
            var responses = op.Operation["responses"]!.AsObject().Select(r => r.Key).ToList();
            var name = $"{op.Method.ToUpperInvariant()} {op.Path}";
            Assert.True(responses.Any(r => r.StartsWith('2')), $"{name} documents no success response");
            Assert.True(op.Operation["summary"] is not null, $"{name} has no summary");
            Assert.True(op.Operation["description"] is not null, $"{name} has no description");
            // The health probes, and the OAuth endpoints whose credential is the code or token in the form, are anonymous.
            if (op.Path.StartsWith("/health/", StringComparison.Ordinal) || op.Path.StartsWith("/api/v1/oauth/", StringComparison.Ordinal))
            {
                Assert.True(op.Operation["security"] is null, $"{name} should be anonymous");
                return;
            }
            Assert.True(op.Operation["security"] is JsonArray { Count: > 0 }, $"{name} states no security requirement");
            Assert.Contains("401", responses);
            Assert.Contains("403", responses);
            Assert.True(op.Operation["x-outcomes-policy"] is not null, $"{name} names no authorization policy");
        });
    }

    [SkippableFact]
    public async Task EveryRequestExample_IsAcceptedByTheService()
    {
        var document = JsonNode.Parse(await App.Anonymous().GetStringAsync("/openapi/v1.json"))!;
        var schemas = document["components"]!["schemas"]!.AsObject();
        // Site 1, practitioner 1 and patient 1 are what the examples name; create them first, from their own examples.
        var order = new[] { "/api/v1/sites", "/api/v1/practitioners", "/api/v1/patients" };
        var operations = document["paths"]!.AsObject()
            .Where(p => p.Value!["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"] is not null)
            .Select(p => (Path: p.Key, Schema: p.Value!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>().Split('/')[^1]))
            .OrderBy(o => Array.IndexOf(order, o.Path) is var i and >= 0 ? i : order.Length)
            .ThenBy(o => o.Path.Contains("{sessionId}", StringComparison.Ordinal) || o.Path.Contains("entered-in-error", StringComparison.Ordinal))
            .ToList();
        var admin = App.Admin();
        long observationId = 0;
        long sessionId = 0;
        var posted = 0;

        foreach (var (path, schema) in operations)
        {
            if (schemas[schema]?["examples"] is not JsonArray { Count: > 0 } examples)
            {
                Assert.True(schema == "InstrumentDefinition", $"{schema} ({path}) has no example for the Swagger UI");
                continue;
            }
            var url = path.Replace("{patientId}", "1", StringComparison.Ordinal).Replace("{siteId}", "1", StringComparison.Ordinal)
                .Replace("{observationId}", observationId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{sessionId}", sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            var response = await admin.PostAsync(url, new StringContent(examples[0]!.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

            // The body must be accepted; a refusal may only concern the resource the path names (a review needs a withdrawn report).
            var text = await response.Content.ReadAsStringAsync();
            var onlyPath = (response.StatusCode == System.Net.HttpStatusCode.BadRequest
                && JsonNode.Parse(text)!["errors"]!.AsObject().All(e => path.Contains($"{{{e.Key}}}", StringComparison.Ordinal)))
                // An alert id the test has none of: the body is checked before the alert is looked up, so a 404 accepted it.
                || (response.StatusCode == System.Net.HttpStatusCode.NotFound && path.Contains("{alertId}", StringComparison.Ordinal))
                // Likewise a device id: the example's body is checked before the device is looked up.
                || (response.StatusCode == System.Net.HttpStatusCode.NotFound && path.Contains("{deviceId}", StringComparison.Ordinal));
            Assert.True(response.IsSuccessStatusCode || onlyPath, $"POST {path} with the {schema} example: {(int)response.StatusCode} {text}");
            if (path.EndsWith("/pain-scores", StringComparison.Ordinal))
            {
                observationId = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
            }
            if (path.EndsWith("/treatment-sessions", StringComparison.Ordinal) || path.EndsWith("/amendments", StringComparison.Ordinal))
            {
                sessionId = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
            }
            posted++;
        }
        Assert.True(posted >= 10, $"only {posted} examples were posted");
    }

    [SkippableFact]
    public async Task SwaggerUi_IsServedAtSwagger()
    {
        var html = await App.Anonymous().GetStringAsync("/swagger/index.html");

        Assert.Contains("swagger-ui", html, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>_indented JSON with a final newline, as committed.</summary>
    private static string Normalise(string json) => JsonSerializer.Serialize(JsonNode.Parse(json), _indented) + "\n";

    private static readonly JsonSerializerOptions _indented = new() { WriteIndented = true };
}
