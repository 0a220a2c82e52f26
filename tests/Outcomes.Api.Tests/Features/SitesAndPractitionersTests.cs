using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Outcomes.Api.Data;
using Outcomes.Api.Tests.Infrastructure;

namespace Outcomes.Api.Tests.Features;

public abstract class SitesAndPractitionersTests(DatabaseProvider provider) : ApiTestBase(provider)
{
    public sealed class OnSqlite() : SitesAndPractitionersTests(DatabaseProvider.Sqlite);

    public sealed class OnSqlServer() : SitesAndPractitionersTests(DatabaseProvider.SqlServer);

    [SkippableFact]
    public async Task PostSite_AsAdmin_Returns201WithLocationThatReadsBack()
    {
        var response = await App.Admin().PostAsJsonAsync("/api/v1/sites", new { name = "  Northgate Pain Clinic " }, OutcomesApp.Json);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        var site = await App.Auditor().GetFromJsonAsync<JsonElement>(location, OutcomesApp.Json);
        Assert.Equal("Northgate Pain Clinic", site.GetProperty("name").GetString());
        Assert.Equal(1, await App.CountAuditAsync("create", "site", null));
    }

    [SkippableFact]
    public async Task PostSite_AsPractitioner_Returns403AndWritesNothing()
    {
        var siteId = await App.CreateSiteAsync();
        var before = await App.CountRowsAsync();

        var response = await App.Practitioner(siteId).PostAsJsonAsync("/api/v1/sites", new { name = "Mine" }, OutcomesApp.Json);

        await ProblemAssert.IsProblem(response, HttpStatusCode.Forbidden);
        Assert.Equal(before, await App.CountRowsAsync());
    }

    [SkippableFact]
    public async Task PostSite_DuplicateName_Returns409()
    {
        await App.CreateSiteAsync("Riverside");

        var response = await App.Admin().PostAsJsonAsync("/api/v1/sites", new { name = "Riverside" }, OutcomesApp.Json);

        await ProblemAssert.IsProblem(response, HttpStatusCode.Conflict);
        Assert.Equal(1, (await App.CountRowsAsync())["site"]);
    }

    [SkippableFact]
    public async Task PostSite_BlankName_Returns400NamingName()
    {
        var response = await App.Admin().PostAsJsonAsync("/api/v1/sites", new { name = " " }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "name");
    }

    [SkippableFact]
    public async Task GetSite_UnknownId_Returns404()
    {
        var response = await App.Admin().GetAsync("/api/v1/sites/999");

        await ProblemAssert.IsProblem(response, HttpStatusCode.NotFound);
    }

    [SkippableFact]
    public async Task PostPractitioner_UnknownSiteAndNoName_Returns400NamingBoth()
    {
        var response = await App.Admin().PostAsJsonAsync("/api/v1/practitioners", new { siteId = 999 }, OutcomesApp.Json);

        await ProblemAssert.IsValidationProblem(response, "displayName", "siteId");
        Assert.Equal(0, (await App.CountRowsAsync())["practitioner"]);
    }

    [SkippableFact]
    public async Task Practitioners_PractitionerSeesOwnSiteOnly()
    {
        var mine = await App.CreateSiteAsync();
        var other = await App.CreateSiteAsync();
        var colleague = await App.CreatePractitionerAsync(mine);
        var stranger = await App.CreatePractitionerAsync(other);
        var client = App.Practitioner(mine);

        var listed = await client.GetFromJsonAsync<JsonElement[]>("/api/v1/practitioners", OutcomesApp.Json);
        var otherSiteListed = await client.GetFromJsonAsync<JsonElement[]>($"/api/v1/practitioners?siteId={other}", OutcomesApp.Json);
        var strangerResponse = await client.GetAsync($"/api/v1/practitioners/{stranger}");

        Assert.Equal([colleague], listed!.Select(p => p.GetProperty("id").GetInt64()));
        Assert.Empty(otherSiteListed!);
        await ProblemAssert.IsProblem(strangerResponse, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/practitioners/{colleague}")).StatusCode);
    }
}
