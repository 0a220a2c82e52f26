using System.Net;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

/// <summary>/app serves the built web client, or says how to build it; never a 404, never a login.</summary>
public sealed class WebClientTests : IAsyncLifetime
{
    private readonly string _built = Directory.CreateTempSubdirectory("outcomes-web-").FullName;
    private TestDatabase? _database;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_built, "assets"));
        File.WriteAllText(Path.Combine(_built, "index.html"), "<!doctype html><title>built client</title>");
        File.WriteAllText(Path.Combine(_built, "assets", "index-abc123.js"), "console.log(1);");
        _database = TestDatabase.TryCreate(DatabaseProvider.Sqlite);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        Directory.Delete(_built, recursive: true);
    }

    [Fact]
    public async Task ABuiltClient_IsServedAtApp_WithItsAssetsCachedAndItsPageNot()
    {
        await using var app = new OutcomesApp(_database!, null, new Dictionary<string, string?> { ["WebClient:Path"] = _built });
        var client = app.Anonymous();

        var page = await client.GetAsync("/app/");
        var deepLink = await client.GetAsync("/app/anything/else");
        var asset = await client.GetAsync("/app/assets/index-abc123.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("built client", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("no-cache", page.Headers.CacheControl?.ToString());
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("built client", await deepLink.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Contains("immutable", asset.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutABuiltClient_AppSaysHowToBuildIt()
    {
        await using var app = new OutcomesApp(_database!, null, new Dictionary<string, string?> { ["WebClient:Path"] = Path.Combine(_built, "missing") });

        var page = await app.Anonymous().GetAsync("/app/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("npm run build", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
