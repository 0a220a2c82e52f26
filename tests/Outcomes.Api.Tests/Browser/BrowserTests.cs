using System.Diagnostics;
using Outcomes.Api.Tests.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Browser;

/// <summary>
/// The web client in a real browser: the service runs as a process on a fresh database, serving the built client at
/// /app, and tests/browser (Playwright driving Debian's chromium, axe-core on every page) runs against it. Screenshots
/// are kept in tests/browser/artifacts. Skipped, with the reason, where the client is not built or chromium, Node or
/// the test packages are missing; .ci/run installs and builds all of them.
/// </summary>
public sealed class BrowserTests : ProcessTestBase
{
    private static readonly string _root = MigrationFiles.RepositoryRoot;
    private static readonly string _browser = Path.Combine(_root, "tests", "browser");
    private static readonly string _client = Path.Combine(_root, "src", "Outcomes.Web", "dist");
    private const string Chromium = "/usr/bin/chromium";

    private static string? Missing() =>
        !File.Exists(Path.Combine(_client, "index.html")) ? "the web client is not built (cd src/Outcomes.Web && npm ci && npm run build)"
        : !File.Exists(Chromium) ? $"{Chromium} is not installed (Debian's chromium package)"
        : !System.IO.Directory.Exists(Path.Combine(_browser, "node_modules", "playwright-core")) ? "tests/browser has no node_modules (cd tests/browser && npm ci)"
        : null;

    [SkippableFact]
    public async Task TheWebClient_InChromium_CheckInAndStaffScreens_WorkAndAreAccessible()
    {
        Skip.If(Missing() is not null, Missing());
        // The OpenID provider the browser tests start (tests/browser/oidc.mjs) listens here; the service trusts it.
        var oidcPort = ServiceProcess.FreePort();
        var authority = $"http://127.0.0.1:{oidcPort}";
        await using var service = await ServiceProcess.StartListeningAsync(new Dictionary<string, string>
        {
            ["Authentication:Schemes:Bearer:Authority"] = authority,
            ["Authentication:Schemes:Bearer:RequireHttpsMetadata"] = "false",
            ["WebClient:Oidc:Authority"] = authority,
            ["WebClient:Oidc:ClientId"] = "outcomes-web",
            ["WebClient:Oidc:Scope"] = "openid outcomes",
            ["WebClient:Oidc:Resource"] = "urn:outcomes:api",
            // The provider's access tokens are for this resource (RFC 8707); the test tokens' audience stays accepted too.
            ["Authentication:Schemes:Bearer:ValidAudiences:1"] = "urn:outcomes:api",
            ["Database:SqlitePath"] = DatabasePath,
            ["WebClient:Path"] = _client,
            ["Devices:SigningKey"] = "dGVzdHMtb25seS1kZXZpY2Utc2lnbmluZy1rZXktMDEyMzQ1Njc4OQ==",
            ["RateLimiting:PermitLimit"] = "100000",
            ["RateLimiting:TokenPermitLimit"] = "100000",
        });
        var artifacts = Path.Combine(_browser, "artifacts");
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { "--test", "--test-reporter=spec", "--test-concurrency=1", "checkin.test.mjs", "staff.test.mjs" },
            WorkingDirectory = _browser,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["OUTCOMES_BASE_URL"] = $"http://127.0.0.1:{service.Port}",
                ["OUTCOMES_ADMIN_TOKEN"] = service.Tokens.Create(Api.Infrastructure.Roles.Admin, subject: "browser-admin"),
                ["OUTCOMES_ARTIFACTS"] = artifacts,
                ["CHROMIUM"] = Chromium,
                ["OUTCOMES_OIDC_PORT"] = oidcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        };
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await node.WaitForExitAsync(timeout.Token);

        var report = $"{await output}\n{await errors}\nservice:\n{service.StandardError}";
        // Kept with the screenshots: what each browser test printed (the check-in's load time and script size among it).
        System.IO.Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "report.txt"), report);
        Assert.True(node.ExitCode == 0, report);
        // node's spec reporter closes with "ℹ pass N" and "ℹ fail N": every browser test ran, and none failed.
        var passed = System.Text.RegularExpressions.Regex.Match(report, @"pass (\d+)");
        Assert.True(passed.Success && int.Parse(passed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 7, report);
        Assert.Matches(@"fail 0\b", report);
        Assert.True(File.Exists(Path.Combine(artifacts, "checkin-offline-phone.png")), report);
    }
}
